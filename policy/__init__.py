"""Access policy and consent (Casbin ABAC); the decisions land with the policy work.

Imports only ``linkage`` below it, never a web or database framework. Today it
holds the closed vocabularies requests are checked against.
"""

from policy.vocabulary import CATEGORIES, PURPOSES

__all__ = ["CATEGORIES", "PURPOSES"]
