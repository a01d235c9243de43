"""What admission answers: reason codes, limits, problems, the refusal and the accepted batch.

Every problem is a :class:`RecordProblem` (line number, record id when it is
itself safe to show, a stable reason code from :data:`REASONS` and human text);
a refused batch raises one :class:`BatchRejected` holding them all. Nothing a
steward sent is ever echoed back in them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from linkage.records import EncodedRecord

__all__ = [
    "DEFAULT_LIMITS",
    "REASONS",
    "BatchRejected",
    "RecordProblem",
    "SubmissionLimits",
    "ValidatedBatch",
]

#: Stable reason codes and their generic human text.
REASONS: Mapping[str, str] = MappingProxyType(
    {
        "batch_too_large": "the batch exceeds the size or record-count limit",
        "empty_batch": "the batch holds no records",
        "record_too_large": "the record exceeds a size limit",
        "invalid_json": "the line is not a JSON object",
        "missing_field": "a required field is missing, empty or not a string",
        "wrong_schema_version": "the record was encoded under another schema version",
        "wrong_key_id": "the record was encoded under another linkage key",
        "wrong_agency": "the record is stamped with another agency",
        "duplicate_record_id": "the record id occurs more than once in the batch",
        "malformed_record_id": "the record id is too long or holds control characters",
        "unknown_token": "the schema produces no token of this name",
        "malformed_token": "the token is not a token or a list of tokens",
        "unknown_filter": "the schema produces no filter of this name",
        "malformed_filter": "the filter has the wrong size or is degenerate",
        "unknown_category": "the context category is not a known data category",
        "malformed_context": "context must map categories to {field: text} within size limits",
        "looks_like_plaintext": "a plaintext identifier was found where only encodings belong",
    }
)


@dataclass(frozen=True, slots=True)
class SubmissionLimits:
    """Size limits of one submission (production defaults).

    An encoded record of the canonical schema is about 2.5 KB before context.
    """

    max_batch_records: int = 5000
    max_body_bytes: int = 32 * 1024 * 1024
    max_line_bytes: int = 64 * 1024
    max_record_id_chars: int = 128
    max_tokens: int = 64
    max_token_alternatives: int = 16
    max_filters: int = 16
    max_context_bytes_per_record: int = 32 * 1024
    max_context_fields_per_category: int = 64
    max_context_key_chars: int = 64
    max_context_value_chars: int = 8192
    max_problems: int = 500

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if getattr(self, name) < 1:
                raise ValueError(f"SubmissionLimits.{name} must be positive")


DEFAULT_LIMITS = SubmissionLimits()


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """Why one line of a batch was refused.

    Attributes:
        line: 1-based line number in the body (0 for the batch as a whole).
        record_id: The line's record id when it is safe to show, else ``None``.
        reason: A stable code from :data:`REASONS`.
        field: The field concerned when its name is safe to show.
        message: Human text; never holds a submitted value.
    """

    line: int
    record_id: str | None
    reason: str
    field: str | None = None
    message: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "batch"
        rid = f" (record {self.record_id})" if self.record_id else ""
        return f"{where}{rid}: {self.reason}: {self.message}"


class BatchRejected(Exception):
    """The whole batch is refused; ``problems`` lists every bad line (in order).

    Args:
        problems: The problems found (at most ``SubmissionLimits.max_problems``).
        truncated: Whether more problems were found than are listed.
    """

    def __init__(self, problems: Sequence[RecordProblem], *, truncated: bool = False) -> None:
        self.problems = tuple(problems)
        self.truncated = truncated
        lines = len({p.line for p in self.problems})
        more = " (list truncated)" if truncated else ""
        head = "; ".join(str(p) for p in self.problems[:3])
        super().__init__(
            f"batch refused, nothing accepted: {len(self.problems)} problem(s) "
            f"on {lines} line(s){more}: {head}"
        )

    def reason_counts(self) -> dict[str, int]:
        """How many listed problems carry each reason code (for logs and audit)."""
        return dict(Counter(p.reason for p in self.problems))


@dataclass(frozen=True, slots=True)
class ValidatedBatch:
    """The records of an accepted batch, in line order."""

    records: tuple[EncodedRecord, ...]

    def __len__(self) -> int:
        return len(self.records)

    @property
    def record_ids(self) -> tuple[str, ...]:
        """The record ids, in line order."""
        return tuple(r.record_id for r in self.records)
