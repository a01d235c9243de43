"""FEBRL quality of the hashed pipeline next to the plaintext baselines.

Usage (from the repository root)::

    python -m benchmarks.bench_febrl [--runs 3]

Two cases, each with the targets Crosswalk is held to: FEBRL4 (link two files of
5,000 records) without ``ssn`` — F1 at least 0.995 — and FEBRL3 (deduplicate 5,000
records) with every field — F1 at least 0.99. Crosswalk runs
:func:`linkage.evaluate.evaluate_files`: encode with a throw-away key, load, link
and cluster; it is scored on the pairs within its clusters. The baselines run on the
same canonical plaintext through :func:`benchmarks.run_baselines_febrl.run_case`;
Splink is scored on its clusters too, recordlinkage (which does not cluster) on its
matched pairs. Every case runs in a freshly spawned process; times are the median
wall time of the whole call (Crosswalk's includes encoding, the baselines' their
data preparation), loading the data set excluded.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks.common import format_table, median_of, run_in_child
from benchmarks.link_runs import BASELINE_METHODS
from benchmarks.targets import FEBRL3_F1_MIN, FEBRL4_F1_MIN, Check, at_least
from linkage.evaluation import PairScores

if TYPE_CHECKING:  # linkage.datasets imports recordlinkage; children load it themselves
    from linkage.datasets import FebrlName

__all__ = ["CASES", "OursOutcome", "evaluate_ours", "main", "run"]

CASES: tuple[tuple[FebrlName, tuple[str, ...], float], ...] = (
    ("febrl4", ("ssn",), FEBRL4_F1_MIN),
    ("febrl3", (), FEBRL3_F1_MIN),
)
OURS = "crosswalk (hashed)"
HEADERS = (
    "dataset", "excluded", "method", "candidates", "PC", "P", "R", "F1", "time s",
    "peak MiB", "ours/this time",
)  # fmt: skip


@dataclass(frozen=True)
class OursOutcome:
    """Crosswalk's figures on one FEBRL case, small enough to pickle back cheaply."""

    records: int
    candidates: int
    completeness: float
    metrics: PairScores
    median_seconds: float
    stage_seconds: dict[str, float]


def evaluate_ours(name: FebrlName, exclude: tuple[str, ...], runs: int) -> OursOutcome:
    """In the child: load one FEBRL set, evaluate the hashed pipeline ``runs`` times."""
    from linkage.datasets import load_febrl
    from linkage.evaluate import evaluate_files

    dataset = load_febrl(name)
    timed = median_of(
        runs, lambda: evaluate_files(dataset.files, dataset.true_pairs, exclude_fields=exclude)
    )
    report = timed.result
    scores = report.scores
    metrics = scores
    return OursOutcome(
        report.records,
        report.candidate_pairs,
        report.pair_completeness,
        metrics,
        timed.median_seconds,
        dict(report.timings),
    )


@dataclass(frozen=True)
class _Scored:
    """One method's row: quality, time and memory."""

    method: str
    candidates: int
    completeness: float
    metrics: PairScores
    seconds: float
    peak_mib: float


def _baseline(name: FebrlName, method: str, exclude: tuple[str, ...], runs: int) -> _Scored:
    from benchmarks.run_baselines_febrl import run_case

    child = run_in_child(run_case, name, method, exclude, runs)
    case = child.result
    metrics = case.clusters if case.clusters is not None else case.pairs
    return _Scored(
        case.method, case.candidates, case.blocking.recall, metrics, case.median_seconds,
        child.peak_rss_mib,
    )  # fmt: skip


def _row(name: str, exclude: Sequence[str], scored: _Scored, ours_seconds: float) -> list[object]:
    m = scored.metrics
    return [
        name, ",".join(exclude) or "-", scored.method, scored.candidates, scored.completeness,
        m.precision, m.recall, m.f1, f"{scored.seconds:.2f}", f"{scored.peak_mib:.0f}",
        f"{ours_seconds / scored.seconds:.2f}",
    ]  # fmt: skip


def _checks(label: str, minimum: float, ours: _Scored, baselines: list[_Scored]) -> list[Check]:
    f1, passed = f"{ours.metrics.f1:.4f}", at_least(ours.metrics.f1, minimum)
    checks = [] if baselines else [Check(label, "F1", f1, f">= {minimum}", passed)]
    for base in baselines:
        checks.append(
            Check(label, f"F1 vs {base.method}", f1, f">= {minimum}",
                  passed, f"{base.metrics.f1:.4f}",
                  f"{ours.metrics.f1 / base.metrics.f1:.3f}" if base.metrics.f1 else "-")
        )  # fmt: skip
        checks.append(
            Check(label, f"time s vs {base.method}", f"{ours.seconds:.2f}",
                  baseline=f"{base.seconds:.2f}", ratio=f"{ours.seconds / base.seconds:.2f}")
        )  # fmt: skip
    checks.append(Check(label, "pair completeness", f"{ours.completeness:.4f}"))
    return checks


def run(*, runs: int) -> list[Check]:
    """Evaluate every case with Crosswalk and the baselines; print details, return checks."""
    from benchmarks.baselines import BaselineUnavailable

    checks: list[Check] = []
    rows: list[list[object]] = []
    for name, exclude, minimum in CASES:
        label = f"{name} excl={','.join(exclude) or '-'}"
        child = run_in_child(evaluate_ours, name, exclude, runs)
        o = child.result
        ours = _Scored(OURS, o.candidates, o.completeness, o.metrics, o.median_seconds,
                       child.peak_rss_mib)  # fmt: skip
        stages = ", ".join(f"{k} {v:.2f}s" for k, v in o.stage_seconds.items())
        print(f"{label} {OURS}: F1 {o.metrics.f1:.4f}; {stages}", flush=True)
        baselines = []
        for method in BASELINE_METHODS:
            try:
                base = _baseline(name, method, exclude, runs)
            except BaselineUnavailable as exc:
                print(f"{label} {method}: unavailable ({exc})")
                continue
            print(f"{label} {base.method}: F1 {base.metrics.f1:.4f}", flush=True)
            baselines.append(base)
        rows.extend(_row(name, exclude, s, ours.seconds) for s in (ours, *baselines))
        checks.extend(_checks(f"febrl {label}", minimum, ours, baselines))
    print()
    print(format_table(HEADERS, rows))
    print(f"median of {runs} run(s); Splink scored on its clusters, recordlinkage on pairs\n")
    return checks


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: run the FEBRL cases and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions per case (median)")
    args = parser.parse_args(argv)
    run(runs=args.runs)


if __name__ == "__main__":
    main()
