"""``/v1/subjects/{id}`` and ``…/break-glass`` responses: the filtered view and a grant.

The view is typed at its top levels — the agencies that disclose something to
the requester, per agency the categories returned, those withheld with their
reason code, and the Part 2 notices. What a category holds is agency-defined
context: per record, a mapping of field to value, both strings (what the
agency submitted; the hub does not interpret it). Concealed categories, and
agencies that disclose nothing to the requester, are absent rather than empty.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from policy.enforcer import REASONS

__all__ = [
    "AgencyViewPublic",
    "BreakGlassPublic",
    "ContextFields",
    "SubjectViewPublic",
    "WithheldPublic",
]

#: One record's context in one category: field → value, as the agency submitted it.
ContextFields = dict[str, str]


class WithheldPublic(BaseModel):
    """A category the requester may not read, listed so they know to ask."""

    category: str = Field(description="The data category.")
    reason: str = Field(description=f"Why it is withheld, one of: {', '.join(REASONS)}.")


class AgencyViewPublic(BaseModel):
    """One agency's part of the view (present only if it discloses something)."""

    agency: str = Field(description="The agency holding the records.")
    categories: dict[str, list[ContextFields]] = Field(
        description="Category → the context of each of the subject's records at the agency "
        "in it (field → value, agency-defined); an allowed category the records hold "
        "nothing in maps to an empty list."
    )
    withheld: list[WithheldPublic] = Field(
        description="Categories withheld, with reason codes (concealed ones are absent)."
    )
    notices: list[str] = Field(
        description="Returned categories that must carry the 42 CFR Part 2 notice, sorted."
    )


class SubjectViewPublic(BaseModel):
    """A subject's context by agency and category, as policy and consent allow."""

    subject_id: str = Field(description="The subject's id, as requested.")
    purpose: str = Field(description="The stated purpose of use.")
    policy_version: str = Field(description="The label of the policy that decided (`v<n>`).")
    break_glass: bool = Field(
        description="Whether an unexpired break-glass grant of this user applied."
    )
    agencies: list[AgencyViewPublic] = Field(
        description="Agencies disclosing something, by name; empty for an unknown subject."
    )
    notices: list[str] = Field(
        description="Notices the response must carry: the 42 CFR Part 2 redisclosure statement "
        "when Part 2 data is in it."
    )
    own_records: list[str] = Field(
        default_factory=list,
        description="Record ids of the caller's own agency among the subject's members, sorted: "
        "the agency's own data, so that its gateway can show the agency's own plaintext to "
        "confirm the person. Empty when the agency holds no record of the subject.",
    )


class BreakGlassPublic(BaseModel):
    """A short-lived emergency grant (flagged for review)."""

    subject_id: str = Field(description="The subject the grant covers.")
    expires_at: str = Field(description="When the grant expires (ISO 8601, UTC).")
    categories: dict[str, list[str]] = Field(
        description="Agency → the categories the grant opens (not allowed without it), sorted."
    )
