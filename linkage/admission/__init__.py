"""What a hub admits: strict, all-or-nothing validation of a steward's encoded batch.

:func:`validate_batch` checks every line (envelope, record id, tokens, filters,
context) and refuses anything that looks like a plaintext identifier
(:mod:`linkage.admission.plaintext_rules`); a refused batch raises one
:class:`BatchRejected` listing every :class:`RecordProblem`. Imports only
linkage's shared modules: the hub runs it without the linkage key.
"""

from linkage.admission.outcome import (
    DEFAULT_LIMITS,
    REASONS,
    BatchRejected,
    RecordProblem,
    SubmissionLimits,
    ValidatedBatch,
)
from linkage.admission.validation import validate_batch

__all__ = [
    "DEFAULT_LIMITS",
    "REASONS",
    "BatchRejected",
    "RecordProblem",
    "SubmissionLimits",
    "ValidatedBatch",
    "validate_batch",
]
