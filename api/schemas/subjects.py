"""``/v1/subjects`` responses: resolve candidates and a subject's member records.

Neither carries context: resolve answers with subject ids and scores only, and
the member list names records, not what they hold.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from linkage.match.resolve import Zone

__all__ = ["CandidatePublic", "ResolvePublic", "SubjectRecordPublic", "SubjectRecordsPublic"]


class CandidatePublic(BaseModel):
    """A subject the resolved person may be."""

    subject_id: str = Field(description="The candidate subject's id.")
    match_probability: float = Field(
        description="Probability of the query's best pair with one of the subject's records "
        "(6 decimals)."
    )
    zone: Zone = Field(
        description="The decision zone of that probability: `match`, `possible` or `non_match`."
    )


class ResolvePublic(BaseModel):
    """Candidate subjects for one encoded record, best first."""

    candidates: list[CandidatePublic] = Field(
        description="Candidates, most probable first; empty when no stored record is close."
    )
    model: Literal["trained", "prior"] = Field(
        description="Which model scored them: 'trained' (this hub's own, from its re-link "
        "runs) or 'prior' (the packaged prior, used until the first run trains one)."
    )


class SubjectRecordPublic(BaseModel):
    """One member record of a subject (no context)."""

    agency: str = Field(description="The agency holding the record.")
    record_id: str = Field(description="The agency's own id of the record.")
    match_probability: float = Field(
        description="The record's match probability into the subject (6 decimals)."
    )


class SubjectRecordsPublic(BaseModel):
    """A subject's live member records, ordered by agency and record id."""

    subject_id: str = Field(description="The subject's id.")
    records: list[SubjectRecordPublic] = Field(description="The member records (never empty).")
