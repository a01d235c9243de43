"""The hub side: blocking, comparison, the Fellegi–Sunter model, clustering, incremental links.

:func:`link_table` links a whole :class:`~linkage.table.EncodedTable` in batch
(blocking → comparison vectors → EM-trained model → scores → clusters → stable
subject ids); :class:`LinkIndex` holds the stored records for incremental
:func:`link_batch` and :func:`resolve`. Works on encodings only: no key needed.
"""

from linkage.match.blocking import DEFAULT_RULES, BlockingRule, candidate_pairs
from linkage.match.incremental import BatchOutcome, Candidate, RecordLink, link_batch, resolve
from linkage.match.index import LinkIndex, StaleIndexError
from linkage.match.model import FellegiSunterModel
from linkage.match.pipeline import LinkResult, LinkSettings, link_table
from linkage.match.subjects import SubjectEvent, assign_subject_ids
from linkage.match.training import train_model

__all__ = [
    "DEFAULT_RULES",
    "BatchOutcome",
    "BlockingRule",
    "Candidate",
    "FellegiSunterModel",
    "LinkIndex",
    "LinkResult",
    "LinkSettings",
    "RecordLink",
    "StaleIndexError",
    "SubjectEvent",
    "assign_subject_ids",
    "candidate_pairs",
    "link_batch",
    "link_table",
    "resolve",
    "train_model",
]
