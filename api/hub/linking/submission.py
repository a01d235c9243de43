"""What a submission produces on its way through the linking service.

:class:`Prepared` is a validated record in its stored form (row blob and
encrypted context), made before the linking lock is taken; :class:`Unlinked`
is the outcome of a batch linked without a model (every new record its own
subject until a run trains one); :class:`SubmitOutcome` is what the steward is
told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.hub.records.store import NewRecord
from api.schemas.records import RecordLinkPublic, SubmissionPublic
from linkage.records import RecordKey
from linkage.table import EncodedTable

__all__ = ["Prepared", "SubmitOutcome", "Unlinked"]


@dataclass
class SubmitOutcome:
    """What a submission did, for the response."""

    created: int
    updated: int
    links: list[tuple[str, str, float]]  # record_id, subject_id, match_probability
    review_queued: int
    merges: int
    linked: bool

    def public(self) -> SubmissionPublic:
        """The response body."""
        return SubmissionPublic(
            accepted=len(self.links),
            created=self.created,
            updated=self.updated,
            linked=self.linked,
            review_queued=self.review_queued,
            merges=self.merges,
            records=[
                RecordLinkPublic(record_id=r, subject_id=s, match_probability=round(p, 6))
                for r, s, p in self.links
            ],
        )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated record in its stored form, made before the linking lock."""

    record_id: str
    schema_version: str
    key_id: str
    encoding: bytes  # row blob
    context: dict[str, bytes]  # category -> ciphertext

    def linked(self, subject_id: str, match_probability: float) -> NewRecord:
        """The row to write once linking has chosen the subject."""
        return NewRecord(
            self.record_id, self.schema_version, self.key_id, self.encoding,
            subject_id, match_probability, self.context,
        )  # fmt: skip


@dataclass
class Unlinked:
    """Outcome without a model: every new record is its own subject (until a run)."""

    generation: int
    table: EncodedTable
    subject_ids: list[str]
    match_probability: Any
    subject_changes: dict[RecordKey, str] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)
    review_pairs: list[tuple[RecordKey, RecordKey, float]] = field(default_factory=list)
