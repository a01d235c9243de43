"""``/v1/linkage`` responses: re-link runs and the linkage reviewer's queue."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = [
    "LinkageRunPublic",
    "ReviewDecisionPublic",
    "ReviewItemPublic",
    "ReviewQueuePublic",
    "ReviewRecordPublic",
    "SubjectChangePublic",
]


class LinkageRunPublic(BaseModel):
    """A background re-link run: its status, stage and progress."""

    id: int = Field(description="The run's id (poll `GET /v1/linkage/runs/{id}`).")
    status: str = Field(description="One of `queued`, `running`, `succeeded`, `failed`.")
    stage: str = Field(
        description="What the run is doing: `queued`, `loading`, `linking`, `writing`, "
        "then `done` or `failed`."
    )
    progress: float = Field(description="Progress from 0 to 1 (3 decimals).")
    records: int = Field(description="Live records the run links (0 until it has loaded them).")
    subjects: int = Field(description="Subjects the run produced (0 until it succeeded).")
    error: str | None = Field(
        description="Why the run failed: an exception's class name, or `interrupted`; "
        "null otherwise."
    )
    created_at: str = Field(description="When the run was queued (ISO 8601, UTC).")
    finished_at: str | None = Field(
        description="When the run ended (ISO 8601, UTC); null while it is active."
    )


class ReviewRecordPublic(BaseModel):
    """One side of a possible match."""

    agency: str = Field(description="The record's agency.")
    record_id: str = Field(description="The agency's own id of the record.")


class ReviewItemPublic(BaseModel):
    """A possible match between two records, for a linkage reviewer to settle."""

    id: int = Field(
        description="The review item's id (decide it with `POST /v1/linkage/review/{id}`)."
    )
    left: ReviewRecordPublic = Field(description="The first record of the pair.")
    right: ReviewRecordPublic = Field(description="The second record of the pair.")
    match_probability: float = Field(description="The pair's match probability (6 decimals).")
    status: str = Field(description="`open`, or `decided` once a reviewer settled it.")
    decision: str | None = Field(description="`same` or `different` once decided; null while open.")


class ReviewQueuePublic(BaseModel):
    """One page of open possible matches, most probable first."""

    items: list[ReviewItemPublic] = Field(description="The page's open review items.")


class SubjectChangePublic(BaseModel):
    """A subject merge or split caused by a decision."""

    kind: str = Field(
        description="`merge` (several subjects became one) or `split` (one became several)."
    )
    subject_ids: list[str] = Field(description="The subject ids after the change.")
    previous_ids: list[str] = Field(description="The subject ids before the change.")


class ReviewDecisionPublic(ReviewItemPublic):
    """A settled review item and what re-clustering its two records' subjects changed."""

    subjects_changed: int = Field(description="Records whose subject changed.")
    events: list[SubjectChangePublic] = Field(description="The merges and splits, in order.")
