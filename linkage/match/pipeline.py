"""Batch linking: blocking → comparison → model → scores → clusters → subject ids.

This is the whole hub-side batch run over encoded records. Each stage is timed;
comparison runs in chunks of pairs (bounded memory) with an optional progress bar.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from linkage.match.blocking import DEFAULT_RULES, BlockingRule, candidate_pairs
from linkage.match.clustering import cluster_pairs
from linkage.match.comparisons import COMPARISONS, comparison_levels
from linkage.match.contradictions import contradictions, table_scorer
from linkage.match.model import FellegiSunterModel
from linkage.match.subjects import SubjectEvent, SubjectIdKey, assign_subject_ids
from linkage.match.training import train_model
from linkage.records import RecordKey
from linkage.table import EncodedTable

__all__ = ["LinkResult", "LinkSettings", "link_table"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """Thresholds and sizes of a batch run.

    Attributes:
        match_threshold: ``match_probability`` at or above which a pair is a match.
        possible_threshold: Lower bound of the *possible match* zone (for review).
        merge_threshold: Average cross-pair probability needed to merge clusters.
        max_block: Blocks larger than this are skipped.
        chunk_size: Pairs compared per vectorised chunk.
        u_samples: Random pairs sampled to estimate ``u``.
        seed: Seed of that sampling.
        rules: Blocking passes.
    """

    match_threshold: float = 0.15
    possible_threshold: float = 0.03
    merge_threshold: float = 0.5
    max_block: int = 100
    chunk_size: int = 500_000
    u_samples: int = 1_000_000
    seed: int = 0
    rules: tuple[BlockingRule, ...] = DEFAULT_RULES


@dataclass
class LinkResult:
    """Everything a batch run produced."""

    table: EncodedTable
    model: FellegiSunterModel
    left: I64
    right: I64
    probability: F64
    subject_ids: list[str]
    record_probability: F64
    events: list[SubjectEvent]
    settings: LinkSettings
    blocking_counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    skipped_constraints: int = 0

    def rows(self) -> Iterator[tuple[str, str, str, float]]:
        """``(agency, record_id, subject_id, match_probability)`` for every record."""
        for i, key in enumerate(self.table.keys()):
            yield key[0], key[1], self.subject_ids[i], float(self.record_probability[i])

    def possible_matches(self) -> Iterator[tuple[RecordKey, RecordKey, float]]:
        """Pairs in the possible-match zone that ended in different subjects."""
        s = self.settings
        zone = (self.probability >= s.possible_threshold) & (self.probability < s.match_threshold)
        keys = self.table.keys()
        for a, b, p in zip(
            self.left[zone].tolist(),
            self.right[zone].tolist(),
            self.probability[zone].tolist(),
            strict=True,
        ):
            if self.subject_ids[a] != self.subject_ids[b]:
                yield keys[a], keys[b], p


@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - start


_SHARED: EncodedTable | None = None


def _compare_range(bounds: tuple[I64, I64]) -> npt.NDArray[np.int8]:
    assert _SHARED is not None  # noqa: S101 - set before the worker pool forks
    return comparison_levels(_SHARED, *bounds)


def _levels_in_chunks(
    table: EncodedTable, left: I64, right: I64, chunk: int, progress: bool
) -> npt.NDArray[np.int8]:
    """Comparison levels of all pairs, chunk by chunk, on every core.

    Workers are forked after the table is built, so they share its arrays
    copy-on-write and only pair indices and small level matrices cross processes.
    """
    global _SHARED  # read-only hand-over to forked workers
    out = np.empty((len(left), len(COMPARISONS)), dtype=np.int8)
    starts = range(0, len(left), chunk)
    bounds = ((left[i : i + chunk], right[i : i + chunk]) for i in starts)
    cores = os.cpu_count() or 1
    _SHARED = table
    pool = (
        multiprocessing.get_context("fork").Pool(cores) if cores > 1 and len(starts) > 3 else None
    )
    try:
        results = pool.imap(_compare_range, bounds) if pool else map(_compare_range, bounds)
        with tqdm(total=len(left), disable=not progress, unit="pair", desc="compare") as bar:
            for start, levels in zip(starts, results, strict=True):
                out[start : start + len(levels)] = levels
                bar.update(len(levels))
    finally:
        _SHARED = None
        if pool is not None:
            pool.close()
            pool.join()
    return out


def _rows_of(
    table: EncodedTable, pairs: Sequence[tuple[RecordKey, RecordKey]]
) -> tuple[list[tuple[int, int]], int]:
    if not pairs:
        return [], 0
    index = {key: i for i, key in enumerate(table.keys())}
    rows, skipped = [], 0
    for a, b in pairs:
        if a in index and b in index:
            rows.append((index[a], index[b]))
        else:
            skipped += 1
    return rows, skipped


def link_table(
    table: EncodedTable,
    *,
    model: FellegiSunterModel | None = None,
    previous: Mapping[RecordKey, str] | None = None,
    must_link: Sequence[tuple[RecordKey, RecordKey]] = (),
    cannot_link: Sequence[tuple[RecordKey, RecordKey]] = (),
    settings: LinkSettings | None = None,
    progress: bool = False,
    id_key: SubjectIdKey | None = None,
) -> LinkResult:
    """Link (deduplicate) all records of ``table`` into subjects.

    Args:
        table: Encoded records of one or more agencies (one schema version and key).
        model: A saved model to score with; trained on these records when ``None``.
        previous: Earlier subject assignment, to keep ids stable.
        must_link, cannot_link: Reviewer constraints by ``(agency, record_id)``.
        settings: Thresholds and sizes.
        progress: Show progress bars on standard error.
        id_key: Names new subjects (the hub's key): the same input and key give
            the same ids. ``None``: a one-off random key, so new ids are
            unguessable but reproducible only through ``previous``.
    """
    settings = settings or LinkSettings()
    timings: dict[str, float] = {}
    if model is not None:
        model.check_compatible(table)
    with _stage(timings, "blocking"):
        left, right, counts = candidate_pairs(table, settings.rules, max_block=settings.max_block)
    with _stage(timings, "comparison"):
        levels = _levels_in_chunks(table, left, right, settings.chunk_size, progress)
    with _stage(timings, "model"):
        if model is None:
            model = train_model(table, levels, u_samples=settings.u_samples, seed=settings.seed)
        probability = model.probability(model.weight_from_levels(levels, table, left))
    del levels
    with _stage(timings, "clustering"):
        must, skipped_must = _rows_of(table, must_link)
        cannot, skipped_cannot = _rows_of(table, cannot_link)
        labels = cluster_pairs(
            len(table), left, right, probability,
            match_threshold=settings.match_threshold,
            merge_threshold=settings.merge_threshold,
            must_link=must, cannot_link=cannot,
            scorer=table_scorer(table, model),
            contradicts=contradictions(table, left, right),
        )  # fmt: skip
        subject_ids, events = assign_subject_ids(
            table.keys(), labels, previous, id_key=id_key or SubjectIdKey.generate()
        )
        record_probability = _record_probability(len(table), left, right, probability, labels)
    return LinkResult(
        table, model, left, right, probability, subject_ids, record_probability, events,
        settings, counts, timings, skipped_must + skipped_cannot,
    )  # fmt: skip


def _record_probability(n: int, left: I64, right: I64, probability: F64, labels: I64) -> F64:
    """Strongest link of each record to another member of its subject (0 if alone)."""
    best = np.zeros(n)
    same = labels[left] == labels[right]
    np.maximum.at(best, left[same], probability[same])
    np.maximum.at(best, right[same], probability[same])
    return best
