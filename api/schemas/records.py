"""``/v1/records`` responses: what a submission stored and linked, and a retraction."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["RecordLinkPublic", "RecordRetractedPublic", "SubmissionPublic"]


class RecordLinkPublic(BaseModel):
    """The subject one submitted record was linked to."""

    record_id: str = Field(description="The agency's own id of the record.")
    subject_id: str = Field(description="The subject the record now belongs to.")
    match_probability: float = Field(
        description="The record's match probability into its subject, rounded to 6 decimals "
        "(0 when no model linked it)."
    )


class SubmissionPublic(BaseModel):
    """What one accepted batch did, in one transaction."""

    accepted: int = Field(description="Records accepted (the whole batch).")
    created: int = Field(description="Records stored for the first time.")
    updated: int = Field(description="Records that replaced a stored one of the same id.")
    linked: bool = Field(
        description="Whether a linkage model linked the batch; without one (before the "
        "first re-link run) every new record is a subject of its own."
    )
    review_queued: int = Field(description="Possible matches queued for a linkage reviewer.")
    merges: int = Field(description="Subject merges and splits the batch caused.")
    records: list[RecordLinkPublic] = Field(
        description="Each record's subject, in the batch's order."
    )


class RecordRetractedPublic(BaseModel):
    """A retracted record (its stored context is deleted)."""

    record_id: str = Field(description="The agency's own id of the retracted record.")
    retracted: bool = Field(description="Always true: the record is retracted.")
