"""Re-clustering a few subjects at once, when a reviewer's decision adds a constraint.

A linkage reviewer's *same* or *different* becomes a must-link or cannot-link
between two records. Rather than wait for the next re-link run, the hub applies
it at once: every pair of the members of the subjects involved is scored
(subjects are small), clustered with the batch rules and all constraints, and
named with stable ids relative to the current assignment.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from linkage.match.clustering import cluster_pairs
from linkage.match.index import LinkIndex
from linkage.match.model import FellegiSunterModel
from linkage.match.pipeline import LinkSettings
from linkage.match.subjects import SubjectEvent, SubjectIdKey, assign_subject_ids
from linkage.records import RecordKey

__all__ = ["KeyPair", "recluster"]

#: Two records that a constraint ties (must-link) or keeps apart (cannot-link).
KeyPair = tuple[RecordKey, RecordKey]


def recluster(
    index: LinkIndex,
    subject_ids: Sequence[str],
    model: FellegiSunterModel,
    settings: LinkSettings,
    must: Sequence[KeyPair],
    cannot: Sequence[KeyPair],
    *,
    id_key: SubjectIdKey,
) -> tuple[dict[RecordKey, str], list[SubjectEvent]]:
    """Re-cluster the members of a few subjects under the current constraints.

    Every pair of members is scored (subjects are small), clustered with the
    batch rules and constraints, and named with stable ids relative to the
    current assignment — so a cannot-link splits a subject and a must-link
    merges two, with the usual merge/split events. A part split off is named
    with the hub's ``id_key``.

    Returns:
        The new subject of every member whose subject changes, and the events.
    """
    rows = [row for s in dict.fromkeys(subject_ids) for row in index.member_rows(s)]
    if not rows:
        return {}, []
    table = index.take(np.array(rows, dtype=np.int64))
    keys = table.keys()
    left, right = np.triu_indices(len(keys), k=1)
    left, right = left.astype(np.int64), right.astype(np.int64)
    weight, _ = model.match_weight(table, left, right)
    position = {key: i for i, key in enumerate(keys)}
    labels = cluster_pairs(
        len(keys),
        left,
        right,
        model.probability(weight),
        match_threshold=settings.match_threshold,
        merge_threshold=settings.merge_threshold,
        must_link=_local(must, position),
        cannot_link=_local(cannot, position),
    )
    previous = {key: index.subject_of(key) or "" for key in keys}
    names, events = assign_subject_ids(keys, labels, previous, id_key=id_key)
    changes = {key: name for key, name in zip(keys, names, strict=True) if previous[key] != name}
    return changes, events


def _local(pairs: Sequence[KeyPair], position: dict[RecordKey, int]) -> list[tuple[int, int]]:
    return [(position[a], position[b]) for a, b in pairs if a in position and b in position]
