"""Access policy and consent (Casbin ABAC); filled in by the policy work.

Imports only ``linkage`` below it, never a web or database framework.
"""

__all__: list[str] = []
