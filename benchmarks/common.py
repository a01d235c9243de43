"""Shared helpers for the benchmark scripts: timing, memory, pair metrics, tables.

Every benchmark reports the same figures in the same way: wall time per stage
(:class:`Stopwatch`), the median over repeated runs (:func:`median_of`), peak
resident memory of a run isolated in a freshly spawned process (:func:`run_in_child`),
and pairwise precision / recall / F1 against the true pairs (:func:`pair_metrics`).
Pairs are ``((agency, record_id), (agency, record_id))`` with the smaller address
first, exactly as :mod:`linkage.datasets` builds the truth.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import combinations
from multiprocessing import get_context
from typing import Any, Generic, TypeVar

from linkage.datasets import PairKey, RecordKey, sorted_pair

__all__ = [
    "ChildRun",
    "PairMetrics",
    "Stopwatch",
    "Timed",
    "format_table",
    "median_of",
    "pair_metrics",
    "pairs_from_clusters",
    "run_in_child",
]

T = TypeVar("T")


@dataclass
class Stopwatch:
    """Accumulates wall-clock seconds per named stage.

    Example::

        timer = Stopwatch()
        with timer.stage("blocking"):
            ...
        timer.stages  # {"blocking": 0.42}
    """

    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the body of a ``with`` block and add it to stage ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.stages[name] = self.stages.get(name, 0.0) + elapsed

    @property
    def total(self) -> float:
        """Sum of all stage times, in seconds."""
        return sum(self.stages.values())


@dataclass(frozen=True)
class Timed(Generic[T]):
    """Result of :func:`median_of`: the median wall time and the last result.

    Attributes:
        median_seconds: Median wall time over the runs.
        seconds: Every run's wall time, in run order.
        result: The value returned by the last run.
    """

    median_seconds: float
    seconds: tuple[float, ...]
    result: T


def median_of(runs: int, fn: Callable[[], T]) -> Timed[T]:
    """Call ``fn`` ``runs`` times and report the median wall time.

    Args:
        runs: Number of calls, at least one.
        fn: The work to time; takes no arguments.

    Returns:
        The median and individual times, and the result of the last call.

    Raises:
        ValueError: If ``runs`` is less than one.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    seconds: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return Timed(statistics.median(seconds), tuple(seconds), result)


@dataclass(frozen=True)
class ChildRun(Generic[T]):
    """Result of :func:`run_in_child`.

    Attributes:
        result: What the callable returned (pickled back from the child).
        peak_rss_bytes: Peak resident set size of the child process, which includes
            the interpreter and every module the callable imported.
        seconds: Wall time of the call inside the child, excluding process start-up.
    """

    result: T
    peak_rss_bytes: int
    seconds: float

    @property
    def peak_rss_mib(self) -> float:
        """Peak resident set size in MiB."""
        return self.peak_rss_bytes / 2**20


def run_in_child(fn: Callable[..., T], *args: Any, **kwargs: Any) -> ChildRun[T]:
    """Run ``fn(*args, **kwargs)`` in a freshly *spawned* process and measure it.

    Spawn rather than fork, so the child does not inherit (and report) the parent's
    memory. ``fn`` and its arguments must be picklable: a module-level function.

    Args:
        fn: The work to run.
        *args: Positional arguments for ``fn``.
        **kwargs: Keyword arguments for ``fn``.

    Returns:
        The result, the child's peak RSS and the call's wall time.
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        result, peak, seconds = pool.submit(_measured_call, fn, args, kwargs).result()
    return ChildRun(result, peak, seconds)


def _measured_call(
    fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[T, int, float]:
    """Run in the child: call ``fn`` and read this process's peak RSS."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    peak = max_rss if sys.platform == "darwin" else max_rss * 1024
    return result, peak, seconds


@dataclass(frozen=True)
class PairMetrics:
    """Pairwise confusion counts and the scores derived from them."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        """Share of predicted pairs that are true (1.0 when nothing is predicted)."""
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        """Share of true pairs that were predicted (pair completeness for candidates)."""
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def pair_metrics(predicted: Iterable[PairKey], truth: Iterable[PairKey]) -> PairMetrics:
    """Score predicted pairs against true pairs.

    Pairs are normalised (smaller address first) before comparison, so the caller
    need not sort them.

    Args:
        predicted: Pairs the linker declared matches.
        truth: Pairs that are matches.

    Returns:
        True-positive, false-positive and false-negative counts.
    """
    predicted_set = {sorted_pair(left, right) for left, right in predicted}
    truth_set = {sorted_pair(left, right) for left, right in truth}
    hits = len(predicted_set & truth_set)
    return PairMetrics(hits, len(predicted_set) - hits, len(truth_set) - hits)


def pairs_from_clusters(clusters: Iterable[Iterable[RecordKey]]) -> frozenset[PairKey]:
    """Every pair of records that share a cluster."""
    return frozenset(
        sorted_pair(left, right)
        for members in clusters
        for left, right in combinations(sorted(set(members)), 2)
    )


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Render rows as a plain-text table; floats get four decimals.

    Args:
        headers: Column titles.
        rows: One sequence of cells per row, in header order.

    Returns:
        The table, one line per row, columns padded to equal width.
    """
    cells = [list(headers)] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    """Format one table cell."""
    return f"{value:.4f}" if isinstance(value, float) else str(value)
