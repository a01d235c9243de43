"""Stable subject ids across re-linking runs.

A subject id is what the rest of the program (responders, consents, audit) holds
on to, so it must not change merely because linking ran again. Given the previous
run's assignment, each new cluster inherits the previous id it overlaps most
(largest overlap first, each old id used at most once); clusters that inherit
nothing get a fresh id, keyed with the caller's :class:`SubjectIdKey` (see
:mod:`linkage.match.subject_key`: nobody without the key can compute or invert
one). The returned events say which old subjects were merged into or split off
which new ones, so that the service can record them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from linkage.match.subject_key import SubjectIdKey
from linkage.records import RecordKey

__all__ = ["SubjectEvent", "SubjectIdKey", "assign_subject_ids", "new_subject_id"]


@dataclass(frozen=True, slots=True)
class SubjectEvent:
    """A merge (``old_ids`` → one new id) or split (one old id → several)."""

    kind: str  # "merge" | "split"
    subject_ids: tuple[str, ...]
    previous_ids: tuple[str, ...]


def new_subject_id(members: Sequence[RecordKey], taken: set[str], *, id_key: SubjectIdKey) -> str:
    """A fresh id keyed on the cluster's smallest member key, not in ``taken``.

    Deterministic for one key (the same cluster gets the same id on every run),
    and without the key neither computable from ``(agency, record_id)`` nor
    invertible to it.
    """
    seed = min(members)
    for attempt in range(1000):
        candidate = id_key.subject_id(seed, attempt)
        if candidate not in taken:
            return candidate
    raise RuntimeError("could not allocate a subject id")  # pragma: no cover - 2^-64 odds


def assign_subject_ids(
    keys: Sequence[RecordKey],
    labels: npt.NDArray[np.int64],
    previous: Mapping[RecordKey, str] | None = None,
    *,
    id_key: SubjectIdKey,
) -> tuple[list[str], list[SubjectEvent]]:
    """Name every cluster, keeping previous ids where clusters persist.

    Args:
        keys: ``(agency, record_id)`` per row.
        labels: Cluster label per row.
        previous: Earlier ``(agency, record_id) → subject_id`` assignment.
        id_key: Names the clusters that inherit no previous id.

    Returns:
        Subject id per row, and merge/split events relative to ``previous``.
    """
    previous = previous or {}
    members: dict[int, list[int]] = {}
    for row, label in enumerate(labels.tolist()):
        members.setdefault(label, []).append(row)
    overlap: Counter[tuple[int, str]] = Counter()
    for label, rows in members.items():
        for row in rows:
            old = previous.get(keys[row])
            if old is not None:
                overlap[(label, old)] += 1
    names: dict[int, str] = {}
    used: set[str] = set()
    for (label, old), _count in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
        if label not in names and old not in used:
            names[label] = old
            used.add(old)
    taken = used | set(previous.values())
    for label, rows in sorted(members.items()):
        if label not in names:
            names[label] = new_subject_id([keys[r] for r in rows], taken, id_key=id_key)
            taken.add(names[label])
    ids = [names[label] for label in labels.tolist()]
    return ids, _events(overlap, names)


def _events(overlap: Counter[tuple[int, str]], names: dict[int, str]) -> list[SubjectEvent]:
    olds_of: dict[int, set[str]] = {}
    news_of: dict[str, set[str]] = {}
    for label, old in overlap:
        olds_of.setdefault(label, set()).add(old)
        news_of.setdefault(old, set()).add(names[label])
    events = [
        SubjectEvent("merge", (names[label],), tuple(sorted(olds)))
        for label, olds in sorted(olds_of.items())
        if len(olds) > 1
    ]
    events += [
        SubjectEvent("split", tuple(sorted(news)), (old,))
        for old, news in sorted(news_of.items())
        if len(news) > 1
    ]
    return events
