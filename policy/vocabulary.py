"""The closed vocabularies the access policy speaks: purposes of use and categories.

Requests name a purpose from :data:`PURPOSES`; anything else is refused before
any decision is made. Data categories are those of :mod:`linkage.records`.
"""

from __future__ import annotations

from linkage.records import CONTEXT_CATEGORIES

__all__ = ["CATEGORIES", "PURPOSES"]

#: Why a responder reads a subject's context (HL7 purpose-of-use in spirit).
PURPOSES: tuple[str, ...] = (
    "crisis_response",  # on a co-response call
    "treatment",  # clinical care by a treating provider
    "care_coordination",  # case management, warm hand-offs, follow-up
    "public_safety",  # officer and responder safety on scene
    "emergency",  # break-glass: imminent risk to life
)

#: Data categories context is grouped into.
CATEGORIES: tuple[str, ...] = CONTEXT_CATEGORIES
