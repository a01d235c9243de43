"""The closed vocabularies the access policy speaks: roles, purposes, categories, effects.

Requests name a purpose from :data:`PURPOSES`; anything else is refused before
any decision is made. Data categories are those of :mod:`linkage.records`. Role
names are copied from ``api/hub/identity/roles.py`` because ``policy`` sits below ``api`` and
may not import it; a test keeps the two lists identical.
"""

from __future__ import annotations

import re

from linkage.records import CONTEXT_CATEGORIES

__all__ = [
    "AGENCY_NAME",
    "CATEGORIES",
    "CONSENT_REQUIRED_CATEGORIES",
    "CONSENT_STATES",
    "EFFECTS",
    "LAW_ENFORCEMENT_ROLES",
    "PURPOSES",
    "RESPONDER_ROLES",
    "ROLES",
    "WILDCARD",
]

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

#: Every role a user can hold (values of ``api.hub.identity.roles.Role``).
ROLES: tuple[str, ...] = (
    "police_officer",
    "bh_clinician",
    "ems_medic",
    "dispatcher",
    "case_manager",
    "privacy_officer",
    "program_privacy_officer",
    "auditor",
    "data_steward",
    "linkage_reviewer",
    "admin",
)

#: Roles that read subject context on a call (``api.hub.identity.roles.RESPONDER_ROLES``).
RESPONDER_ROLES: frozenset[str] = frozenset(
    {"police_officer", "bh_clinician", "ems_medic", "dispatcher", "case_manager"}
)

#: Roles of law enforcement, named by guard rails such as "substance use never to
#: law enforcement" (42 CFR § 2.12(d), § 2.65). Dispatchers sit in the police CAD.
LAW_ENFORCEMENT_ROLES: frozenset[str] = frozenset({"police_officer", "dispatcher"})

#: Categories that law lets no one disclose without the subject's consent (outside
#: a break-glass emergency): substance-use disorder records under 42 CFR Part 2.
CONSENT_REQUIRED_CATEGORIES: frozenset[str] = frozenset({"substance_use"})

#: The state of consent for one (owner, requester, category, purpose), as computed
#: by :func:`policy.consent.consent_state`.
CONSENT_STATES: tuple[str, ...] = ("granted", "revoked", "none", "expired")

#: What a rule does when it matches. Deny overrides allow; no match denies.
EFFECTS: tuple[str, ...] = ("allow", "deny")

#: In a rule: any role, category or purpose; as a rule's scope: program-wide.
WILDCARD = "*"

#: Agency names: lower-case identifiers, so that no value can carry a comma, a
#: ``#`` or whitespace into a Casbin row.
AGENCY_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
