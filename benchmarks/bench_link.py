"""Link time, peak memory and quality at increasing sizes, against plaintext baselines.

Usage (from the repository root)::

    python -m benchmarks.bench_link [--sizes 10000,100000] [--baseline-budget 600]

For each size, one generated data set (three agency files, see
:mod:`benchmarks.synthetic_cache`) is deduplicated as a whole by:

* **Crosswalk** — :func:`linkage.table.load_encoded_files` and
  :func:`linkage.pipeline.link_table` on the files encoded beforehand (encoding is
  not timed here; ``bench_encode`` measures it);
* **Splink (DuckDB)** and **recordlinkage ECM** — :mod:`benchmarks.baselines` on the
  plaintext canonical columns, normalised like the encoder does (``--baseline-input
  raw`` gives them the raw strings instead); reading the CSVs is timed as their load.

Each run is a freshly spawned process; time is the wall time of load and link, and
memory the process's peak RSS. A baseline runs only while it can finish within
``--baseline-budget`` seconds and ``--baseline-memory`` GB (a shared machine must not
swap): it is killed over either, and skipped at a size where its earlier sizes
predict it would exceed the time (see :mod:`benchmarks.budget`).
Quality is pairwise against ``truth.csv``: Crosswalk and Splink are scored on the
pairs within their clusters, recordlinkage (which does not cluster) on its matched
pairs; PC is the pair completeness of Crosswalk's blocking.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.budget import BaselineBudget
from benchmarks.common import (
    ChildFailed,
    ChildLimitExceeded,
    Limits,
    PairMetrics,
    format_table,
    pair_metrics,
    run_in_child_within,
)
from benchmarks.link_runs import BASELINE_METHODS, OursRun, link_baseline, link_ours
from benchmarks.options import add_common_arguments, parse_sizes, size_label
from benchmarks.synthetic_cache import (
    SyntheticSet,
    encoded_files,
    ensure_synthetic,
    normalized_files,
)
from benchmarks.targets import (
    LINK_PEAK_BYTES_MAX,
    LINK_SECONDS_MAX,
    LINK_TARGET_RECORDS,
    Check,
    at_most,
)
from linkage.evaluation import PairKey, cluster_pairs_of, read_truth_csv

__all__ = ["LinkOutcome", "main", "pair_completeness", "run"]

OURS = "crosswalk"
# Splink's and recordlinkage's time grows faster than linearly (larger blocks); with a
# single earlier size, assume this exponent between linear and quadratic.
DEFAULT_EXPONENT = 1.5


@dataclass
class LinkOutcome:
    """One method at one size, scored; ``skipped`` says why it did not run."""

    method: str
    records: int
    seconds: list[float] = field(default_factory=list)
    peak_mib: float = 0.0
    candidates: int = 0
    completeness: float | None = None
    metrics: PairMetrics | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    skipped: str | None = None

    @property
    def median_seconds(self) -> float:
        """Median wall time of load and link over the runs."""
        return statistics.median(self.seconds)


def pair_completeness(run: OursRun, truth: set[PairKey]) -> float:
    """Share of true pairs among Crosswalk's candidate pairs."""
    if not truth:
        return 1.0
    index = {key: i for i, key in enumerate(zip(run.agencies, run.record_ids, strict=True))}
    n = len(index)
    rows = np.array([(index.get(a, -1), index.get(b, -1)) for a, b in truth], dtype=np.int64)
    codes = rows.min(axis=1) * n + rows.max(axis=1)
    found = np.isin(codes, run.candidate_codes) & (rows.min(axis=1) >= 0)
    return float(found.mean())


def _measure_ours(dataset: SyntheticSet, truth: set[PairKey], runs: int) -> LinkOutcome:
    paths = encoded_files(dataset)
    outcome = LinkOutcome(OURS, dataset.records)
    for _ in range(runs):
        child = run_in_child_within(Limits(), link_ours, paths)
        outcome.seconds.append(child.result.stage_seconds["load+link"])
        outcome.peak_mib = max(outcome.peak_mib, child.peak_rss_mib)
    ours = child.result
    outcome.stage_seconds = ours.stage_seconds
    outcome.candidates = len(ours.candidate_codes)
    outcome.completeness = pair_completeness(ours, truth)
    keys = list(zip(ours.agencies, ours.record_ids, strict=True))
    outcome.metrics = pair_metrics(cluster_pairs_of(keys, ours.subject_ids), truth)
    return outcome


def _measure_baseline(
    method: str,
    csvs: dict[str, Path],
    truth: set[PairKey],
    records: int,
    budget: BaselineBudget,
    runs: int,
) -> LinkOutcome:
    from benchmarks.baselines import BaselineUnavailable  # pandas: only when needed

    outcome = LinkOutcome(method, records)
    outcome.skipped = budget.skip_reason(records)
    if outcome.skipped:
        return outcome
    limits = Limits(seconds=budget.budget_seconds, rss_bytes=budget.memory_bytes)
    walls = []
    for _ in range(runs):
        try:
            child = run_in_child_within(limits, link_baseline, method, csvs)
        except ChildLimitExceeded as exc:
            budget.killed(records)
            outcome.skipped = f"killed: over budget ({exc})"
            return outcome
        except ChildFailed as exc:  # e.g. killed for memory: larger sizes will fail too
            budget.killed(records)
            outcome.skipped = f"failed: {exc}"
            return outcome
        except BaselineUnavailable as exc:  # splink missing: report, do not stop
            outcome.skipped = f"unavailable: {exc}"
            return outcome
        walls.append(child.seconds)
        outcome.seconds.append(child.result.stage_seconds["load+link"])
        outcome.peak_mib = max(outcome.peak_mib, child.peak_rss_mib)
    budget.finished(records, statistics.median(walls))
    result = child.result
    outcome.method = result.method
    outcome.stage_seconds = result.stage_seconds
    outcome.candidates = result.candidates
    scored = result.cluster_pairs if result.cluster_pairs is not None else result.predicted_pairs
    outcome.metrics = pair_metrics(scored, truth)
    return outcome


def _row(ours: LinkOutcome, outcome: LinkOutcome) -> list[object]:
    label = size_label(outcome.records)
    if outcome.skipped or outcome.metrics is None:
        return [label, outcome.method, outcome.skipped or "-"]
    m = outcome.metrics
    return [
        label, outcome.method, outcome.candidates,
        "-" if outcome.completeness is None else outcome.completeness,
        m.precision, m.recall, m.f1,
        f"{outcome.median_seconds:.1f}", f"{outcome.peak_mib:.0f}",
        f"{ours.median_seconds / outcome.median_seconds:.2f}",
        f"{ours.peak_mib / outcome.peak_mib:.2f}",
    ]  # fmt: skip


HEADERS = (
    "size", "method", "candidates", "PC", "P", "R", "F1", "time s", "peak MiB",
    "ours/this time", "ours/this mem",
)  # fmt: skip


def _checks(ours: LinkOutcome, baselines: list[LinkOutcome]) -> list[Check]:
    """Summary rows: time, peak memory and F1 of ours next to each baseline."""
    assert ours.metrics is not None
    at_target = ours.records == LINK_TARGET_RECORDS  # the targets are stated for 1M
    ours_gb = ours.peak_mib * 2**20 / 1e9
    mine: list[tuple[str, float, str, str, bool | None]] = [
        ("time s", ours.median_seconds, ".1f", f"<= {LINK_SECONDS_MAX:.0f} at 1M",
         at_most(ours.median_seconds, LINK_SECONDS_MAX) if at_target else None),
        ("peak GB", ours_gb, ".2f", f"<= {LINK_PEAK_BYTES_MAX / 1e9:.0f} at 1M",
         at_most(ours_gb * 1e9, LINK_PEAK_BYTES_MAX) if at_target else None),
        ("F1", ours.metrics.f1, ".4f", "-", None),
    ]  # fmt: skip
    checks = []
    for base in baselines:
        theirs = None
        if base.skipped is None and base.metrics is not None:
            theirs = (base.median_seconds, base.peak_mib * 2**20 / 1e9, base.metrics.f1)
        for i, (figure, value, fmt, target, passed) in enumerate(mine):
            checks.append(
                Check(
                    benchmark=f"link {size_label(ours.records)}",
                    figure=f"{figure} vs {base.method}",
                    measured=format(value, fmt),
                    target=target,
                    passed=passed,
                    baseline=format(theirs[i], fmt) if theirs else (base.skipped or "-"),
                    ratio=f"{value / theirs[i]:.2f}" if theirs and theirs[i] else "-",
                )
            )
    return checks


def _stages(outcome: LinkOutcome) -> str:
    return ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in outcome.stage_seconds.items())


def run(
    workdir: Path,
    sizes: Sequence[int],
    *,
    seed: int,
    runs: int = 1,
    baseline_budget: float = 600.0,
    baseline_memory_gb: float = 8.0,
    baseline_input: str = "normalized",
) -> list[Check]:
    """Link every size with Crosswalk and the baselines; print details, return checks."""
    memory = int(baseline_memory_gb * 1e9)
    budgets = {
        m: BaselineBudget(baseline_budget, DEFAULT_EXPONENT, memory) for m in BASELINE_METHODS
    }
    checks: list[Check] = []
    rows: list[list[object]] = []
    for records in sorted(sizes):
        dataset = ensure_synthetic(workdir, records, seed)
        truth = read_truth_csv(dataset.truth)
        csvs = normalized_files(dataset) if baseline_input == "normalized" else dataset.agency_csvs
        print(f"link {size_label(records)}: {len(truth)} true pairs", flush=True)
        ours = _measure_ours(dataset, truth, runs)
        print(f"  {OURS}: {_stages(ours)}; peak {ours.peak_mib:.0f} MiB", flush=True)
        baselines = []
        for method in BASELINE_METHODS:
            outcome = _measure_baseline(method, csvs, truth, records, budgets[method], runs)
            detail = outcome.skipped or f"{_stages(outcome)}; peak {outcome.peak_mib:.0f} MiB"
            print(f"  {outcome.method}: {detail}", flush=True)
            baselines.append(outcome)
        rows.extend(_row(ours, outcome) for outcome in (ours, *baselines))
        checks.extend(_checks(ours, baselines))
    print()
    print(format_table(HEADERS, [row + [""] * (len(HEADERS) - len(row)) for row in rows]))
    print(
        f"baselines on {baseline_input} plaintext; time = load (read) + link, median of "
        f"{runs} run(s); peak = RSS of the run's process\n"
    )
    return checks


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: link at each size and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=parse_sizes, default=[10_000, 100_000], help="comma-separated sizes"
    )
    parser.add_argument("--runs", type=int, default=1, help="repetitions per method (median)")
    add_link_arguments(parser)
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    run(
        args.workdir,
        args.sizes,
        seed=args.seed,
        runs=args.runs,
        baseline_budget=args.baseline_budget,
        baseline_memory_gb=args.baseline_memory,
        baseline_input=args.baseline_input,
    )


def add_link_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--baseline-budget``, ``--baseline-memory`` and ``--baseline-input``."""
    parser.add_argument(
        "--baseline-budget",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="wall time a baseline run may take at one size (default 600)",
    )
    parser.add_argument(
        "--baseline-memory",
        type=float,
        default=8.0,
        metavar="GB",
        help="resident memory a baseline run may use before it is killed (default 8)",
    )
    parser.add_argument(
        "--baseline-input",
        choices=("normalized", "raw"),
        default="normalized",
        help="plaintext given to the baselines (default: normalised like the encoder)",
    )


if __name__ == "__main__":
    main()
