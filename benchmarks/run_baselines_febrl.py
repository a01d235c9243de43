"""Run the plaintext baselines on FEBRL3 and FEBRL4 and print their scores.

Usage (from the repository root)::

    python -m benchmarks.run_baselines_febrl [--runs 3]

Each case (dataset x excluded fields x baseline) runs in a freshly spawned process,
which loads the data once, runs the baseline ``--runs`` times and reports the median
wall time of the baseline alone (loading excluded) and the process's peak RSS
(interpreter, libraries and data included). Scores are pairwise against the true
pairs: PC is pair completeness of the blocking, P/R/F1 those of the predicted pairs
and, for Splink, of all pairs within its clusters.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmarks.baselines import (
    BaselineResult,
    BaselineUnavailable,
    recordlinkage_ecm,
    splink_duckdb,
)
from benchmarks.common import format_table, median_of, pair_metrics, run_in_child
from linkage.datasets import FebrlName, load_febrl
from linkage.evaluation import PairScores

BASELINES: dict[str, Callable[..., BaselineResult]] = {
    "recordlinkage_ecm": recordlinkage_ecm,
    "splink_duckdb": splink_duckdb,
}
CASES: tuple[tuple[FebrlName, tuple[str, ...]], ...] = (
    ("febrl3", ()),
    ("febrl3", ("ssn",)),
    ("febrl4", ()),
    ("febrl4", ("ssn",)),
)
HEADERS = (
    "dataset",
    "excluded",
    "method",
    "candidates",
    "PC",
    "P",
    "R",
    "F1",
    "cluster P",
    "cluster R",
    "cluster F1",
    "time s",
    "peak MiB",
)


@dataclass(frozen=True)
class CaseOutcome:
    """The scores and timings of one case, small enough to pickle back cheaply."""

    method: str
    candidates: int
    blocking: PairScores
    pairs: PairScores
    clusters: PairScores | None
    median_seconds: float
    stage_seconds: dict[str, float]


def run_case(name: FebrlName, baseline: str, exclude: tuple[str, ...], runs: int) -> CaseOutcome:
    """Load one dataset, run one baseline ``runs`` times and score the last run."""
    dataset = load_febrl(name)
    timed = median_of(runs, lambda: BASELINES[baseline](dataset, exclude_fields=exclude))
    result = timed.result
    clusters = result.cluster_pairs
    return CaseOutcome(
        method=result.method,
        candidates=len(result.candidate_pairs),
        blocking=pair_metrics(result.candidate_pairs, dataset.true_pairs),
        pairs=pair_metrics(result.predicted_pairs, dataset.true_pairs),
        clusters=None if clusters is None else pair_metrics(clusters, dataset.true_pairs),
        median_seconds=timed.median_seconds,
        stage_seconds=result.stage_seconds,
    )


def _row(name: str, exclude: Sequence[str], outcome: CaseOutcome, rss_mib: float) -> list[object]:
    """One table row for a finished case."""
    clusters: list[object] = ["-", "-", "-"]
    if outcome.clusters is not None:
        clusters = [outcome.clusters.precision, outcome.clusters.recall, outcome.clusters.f1]
    return [
        name,
        ",".join(exclude) or "-",
        outcome.method,
        outcome.candidates,
        outcome.blocking.recall,
        outcome.pairs.precision,
        outcome.pairs.recall,
        outcome.pairs.f1,
        *clusters,
        f"{outcome.median_seconds:.2f}",
        f"{rss_mib:.0f}",
    ]


def _stages(outcome: CaseOutcome) -> str:
    return ", ".join(f"{stage} {seconds:.2f}s" for stage, seconds in outcome.stage_seconds.items())


def main(argv: Sequence[str] | None = None) -> None:
    """Run every case and print the results table and the per-stage times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions per case (median)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows: list[list[object]] = []
    for name, exclude in CASES:
        for baseline in BASELINES:
            label = f"{name} excl={','.join(exclude) or '-'} {baseline}"
            try:
                child = run_in_child(run_case, name, baseline, exclude, args.runs)
            except BaselineUnavailable as exc:
                print(f"{label}: unavailable ({exc})")
                continue
            rows.append(_row(name, exclude, child.result, child.peak_rss_mib))
            print(f"{label}: {_stages(child.result)}", flush=True)
    print()
    print(format_table(HEADERS, rows))
    print(f"\nmedian of {args.runs} run(s) per case; total {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
