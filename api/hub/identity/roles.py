"""The closed list of user roles (DESIGN §3).

Responders read subject context on calls; the other roles administer, submit,
review matches, write policy or audit. A user has exactly one role and one agency.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RESPONDER_ROLES", "Role"]


class Role(StrEnum):
    """Every role a user can hold."""

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


#: Roles that resolve people and read their context on a call.
RESPONDER_ROLES: frozenset[Role] = frozenset(
    {Role.POLICE_OFFICER, Role.BH_CLINICIAN, Role.EMS_MEDIC, Role.DISPATCHER, Role.CASE_MANAGER}
)
