"""The closed vocabularies the access policy speaks: roles, purposes, categories, effects.

Requests name a purpose from :data:`PURPOSES`; anything else is refused before
any decision is made. Data categories are those of :mod:`linkage.records`.
:class:`Role` is the one list of user roles (DESIGN §3): the hub's identity
module, its routes and the policy rules all speak it. Agency names follow
:data:`AGENCY_NAME` everywhere: the hub refuses to create an agency that no rule
or consent could name.
"""

from __future__ import annotations

import re
from enum import StrEnum

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
    "Role",
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


class Role(StrEnum):
    """Every role a user can hold; a user has exactly one role and one agency.

    Responders read subject context on calls; the other roles administer,
    submit, review matches, write policy or audit.
    """

    POLICE_OFFICER = "police_officer"
    BH_CLINICIAN = "bh_clinician"
    EMS_MEDIC = "ems_medic"
    DISPATCHER = "dispatcher"
    CASE_MANAGER = "case_manager"
    PRIVACY_OFFICER = "privacy_officer"
    PROGRAM_PRIVACY_OFFICER = "program_privacy_officer"
    AUDITOR = "auditor"
    DATA_STEWARD = "data_steward"
    LINKAGE_REVIEWER = "linkage_reviewer"
    ADMIN = "admin"


#: Every role a user can hold, as the strings rules and requests carry.
ROLES: tuple[str, ...] = tuple(role.value for role in Role)

#: Roles that resolve people and read their context on a call.
RESPONDER_ROLES: frozenset[Role] = frozenset(
    {Role.POLICE_OFFICER, Role.BH_CLINICIAN, Role.EMS_MEDIC, Role.DISPATCHER, Role.CASE_MANAGER}
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

#: Agency names: a lower-case letter, then letters, digits, ``_`` or ``-`` (at most
#: 63 characters), so that no value can carry a comma, a ``#``, a dot or whitespace
#: into a Casbin row. The hub creates no agency whose name fails this.
AGENCY_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
