"""Link time, peak memory and quality at increasing sizes, against plaintext baselines.

Usage (from the repository root)::

    python -m benchmarks.bench_link [--sizes 10000,100000] [--baseline-budget 600]

For each size, one generated data set (three agency files, see
:mod:`benchmarks.synthetic_cache`) is deduplicated as a whole by:

* **Crosswalk** — :func:`linkage.table.load_encoded_files` and
  :func:`linkage.match.pipeline.link_table` on the files encoded beforehand (encoding is
  not timed here; ``bench_encode`` measures it);
* **Splink (DuckDB)** and **recordlinkage ECM** — :mod:`benchmarks.baselines` on the
  plaintext canonical columns, normalised like the encoder does (``--baseline-input
  raw`` gives them the raw strings instead), blocked with passes that scale
  (:data:`benchmarks.link_runs.SCALABLE_BLOCKS`; ``--baseline-blocking febrl`` uses
  the FEBRL ones); reading the CSVs is timed as their load.

Each run is a freshly spawned process (:mod:`benchmarks.link_runs`); time is the
wall time of load and link, memory the process's peak RSS when linking ended. A
baseline runs only while it can finish within ``--baseline-budget`` seconds and
``--baseline-memory`` GB (a shared machine must not swap): it is killed over either,
and skipped at a size where its earlier sizes predict it would exceed the time (see
:mod:`benchmarks.budget`). Quality is pairwise against ``truth.csv``, both for the
pairs classified as matches and for all pairs within clusters. The headline F1 is
Crosswalk's cluster F1 (its output is subjects) against each baseline's better one
(recordlinkage does not cluster; Splink's connected components can over-merge).
PC is the pair completeness of Crosswalk's blocking.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.budget import BaselineBudget, BaselineOptions
from benchmarks.common import (
    ChildFailed,
    ChildLimitExceeded,
    Limits,
    format_table,
    run_in_child_within,
)
from benchmarks.link_runs import BASELINE_METHODS, LinkRun, link_baseline, link_ours
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
from linkage.evaluation import PairScores

__all__ = ["LinkOutcome", "main", "run"]

OURS = "crosswalk"


@dataclass
class LinkOutcome:
    """One method at one size: its runs, or why it did not run."""

    method: str
    records: int
    seconds: list[float] = field(default_factory=list)
    peak_mib: float = 0.0
    last: LinkRun | None = None
    skipped: str | None = None

    def add(self, run: LinkRun) -> None:
        """Record one finished run (median time, largest peak, scores of the last)."""
        self.method = run.method
        self.seconds.append(run.stage_seconds["load+link"])
        self.peak_mib = max(self.peak_mib, run.linked_peak_rss_bytes / 2**20)
        self.last = run

    @property
    def median_seconds(self) -> float:
        """Median wall time of load and link over the runs."""
        return statistics.median(self.seconds)

    @property
    def scored_on(self) -> str:
        """Which scores are the headline: ``clusters`` or ``pairs``.

        Crosswalk's output is its clusters (subject ids), so it is judged on them. A
        baseline is judged on whichever of its two outputs scores better, so that a
        weak clustering step (Splink's connected components chain pairs together)
        does not flatter the comparison.
        """
        run = self.last
        if run is None or run.clusters is None:
            return "pairs"
        if self.method == OURS or run.clusters.f1 >= run.pairs.f1:
            return "clusters"
        return "pairs"

    @property
    def metrics(self) -> PairScores | None:
        """The headline scores (see :attr:`scored_on`)."""
        if self.last is None:
            return None
        return self.last.clusters if self.scored_on == "clusters" else self.last.pairs


def _measure_ours(dataset: SyntheticSet, runs: int) -> LinkOutcome:
    paths = encoded_files(dataset)
    outcome = LinkOutcome(OURS, dataset.records)
    for _ in range(runs):
        outcome.add(run_in_child_within(Limits(), link_ours, paths, dataset.truth).result)
    return outcome


def _measure_baseline(
    method: str,
    csvs: dict[str, Path],
    dataset: SyntheticSet,
    budget: BaselineBudget,
    options: BaselineOptions,
) -> LinkOutcome:
    from benchmarks.baselines import BaselineUnavailable  # pandas: only when needed

    records = dataset.records
    outcome = LinkOutcome(BASELINE_METHODS[method], records)
    outcome.skipped = budget.skip_reason(records)
    if outcome.skipped:
        return outcome
    limits = Limits(seconds=budget.budget_seconds, rss_bytes=budget.memory_bytes)
    walls = []
    for _ in range(options.runs):
        try:
            child = run_in_child_within(
                limits, link_baseline, method, csvs, options.blocks, dataset.truth
            )
        except ChildLimitExceeded as exc:
            budget.killed(records)
            outcome.skipped = f"killed: over budget ({exc})"
            return outcome
        except ChildFailed as exc:  # e.g. the out-of-memory killer: larger sizes fail too
            budget.killed(records)
            outcome.skipped = f"failed: {exc}"
            return outcome
        except BaselineUnavailable as exc:  # splink missing: report, do not stop
            outcome.skipped = f"unavailable: {exc}"
            return outcome
        walls.append(child.seconds)
        outcome.add(child.result)
    budget.finished(records, statistics.median(walls))
    return outcome


HEADERS = (
    "size", "method", "candidates", "PC", "pair P", "pair R", "pair F1", "cluster P",
    "cluster R", "cluster F1", "time s", "peak MiB", "ours/this time", "ours/this mem",
)  # fmt: skip


def _row(ours: LinkOutcome, outcome: LinkOutcome) -> list[object]:
    label = size_label(outcome.records)
    run = outcome.last
    if run is None:
        status = (outcome.skipped or "-").split(":")[0]
        return [label, outcome.method, status, *["-"] * (len(HEADERS) - 3)]
    scores: list[object] = [run.pairs.precision, run.pairs.recall, run.pairs.f1]
    c = run.clusters
    scores += ["-"] * 3 if c is None else [c.precision, c.recall, c.f1]
    return [
        label, outcome.method, run.candidates,
        "-" if run.completeness is None else run.completeness, *scores,
        f"{outcome.median_seconds:.1f}", f"{outcome.peak_mib:.0f}",
        f"{ours.median_seconds / outcome.median_seconds:.2f}",
        f"{ours.peak_mib / outcome.peak_mib:.2f}",
    ]  # fmt: skip


def _figures(outcome: LinkOutcome) -> tuple[float, float, float]:
    """Time (s), peak memory (GB, decimal) and headline F1 of a run that finished."""
    assert outcome.metrics is not None
    return outcome.median_seconds, outcome.peak_mib * 2**20 / 1e9, outcome.metrics.f1


def _checks(ours: LinkOutcome, baselines: list[LinkOutcome]) -> list[Check]:
    """Summary rows: time, peak and F1 against each baseline that ran; skips noted."""
    label = f"link {size_label(ours.records)}"
    at_target = ours.records == LINK_TARGET_RECORDS  # the targets are stated for 1M
    seconds, peak_gb, f1 = _figures(ours)
    figures: list[tuple[str, float, str, str, bool | None]] = [
        ("time s", seconds, ".1f", f"<= {LINK_SECONDS_MAX:.0f} at 1M",
         at_most(seconds, LINK_SECONDS_MAX) if at_target else None),
        ("peak GB", peak_gb, ".2f", f"<= {LINK_PEAK_BYTES_MAX / 1e9:.0f} at 1M",
         at_most(peak_gb * 1e9, LINK_PEAK_BYTES_MAX) if at_target else None),
        ("F1 (clusters)", f1, ".4f", "-", None),
    ]  # fmt: skip
    ran: list[LinkOutcome | None] = [b for b in baselines if b.metrics is not None]
    checks = []
    for i, (figure, value, fmt, target, passed) in enumerate(figures):
        for base in ran or [None]:
            theirs = None if base is None else _figures(base)[i]
            checks.append(
                Check(
                    benchmark=label,
                    figure=figure if base is None else _versus(figure, base),
                    measured=format(value, fmt),
                    target=target,
                    passed=passed,
                    baseline="-" if theirs is None else format(theirs, fmt),
                    ratio=f"{value / theirs:.2f}" if theirs else "-",
                )
            )
    checks.extend(
        Check(label, f"vs {b.method}", "-", baseline=(b.skipped or "-").split(" (")[0])
        for b in baselines
        if b.metrics is None
    )
    return checks


def _versus(figure: str, base: LinkOutcome) -> str:
    """``"time s vs splink (duckdb)"``; F1 names the baseline's headline scores."""
    if figure.startswith("F1"):
        return f"{figure} vs {base.method} ({base.scored_on})"
    return f"{figure} vs {base.method}"


def _report(outcome: LinkOutcome) -> str:
    if outcome.skipped or outcome.last is None:
        return f"  {outcome.method}: {outcome.skipped}"
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in outcome.last.stage_seconds.items())
    return f"  {outcome.method}: {stages}; peak {outcome.peak_mib:.0f} MiB"


def run(
    workdir: Path, sizes: Sequence[int], *, seed: int, runs: int, options: BaselineOptions
) -> list[Check]:
    """Link every size with Crosswalk and the baselines; print details, return checks.

    Args:
        workdir: Cache of generated and encoded data.
        sizes: Records per data set; run in increasing order.
        seed: Generator seed.
        runs: Repetitions of Crosswalk's run (median time, largest peak).
        options: How the baselines run and within which budget.
    """
    budgets = {m: options.budget() for m in BASELINE_METHODS}
    checks: list[Check] = []
    rows: list[list[object]] = []
    for records in sorted(sizes):
        dataset = ensure_synthetic(workdir, records, seed)
        csvs = normalized_files(dataset) if options.input == "normalized" else dataset.agency_csvs
        print(f"link {size_label(records)}:", flush=True)
        ours = _measure_ours(dataset, runs)
        print(_report(ours), flush=True)
        baselines = []
        for method in BASELINE_METHODS:
            outcome = _measure_baseline(method, csvs, dataset, budgets[method], options)
            print(_report(outcome), flush=True)
            baselines.append(outcome)
        rows.extend(_row(ours, outcome) for outcome in (ours, *baselines))
        checks.extend(_checks(ours, baselines))
    print()
    print(format_table(HEADERS, rows))
    print(
        f"baselines on {options.input} plaintext with {options.blocking} blocking; time = load "
        f"+ link, median of {runs} run(s); peak = RSS of the run's process when linking ended\n"
    )
    return checks


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: link at each size and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=parse_sizes, default=[10_000, 100_000], help="comma-separated sizes"
    )
    parser.add_argument("--runs", type=int, default=1, help="repetitions per method (median)")
    BaselineOptions.add_arguments(parser)
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    options = BaselineOptions.from_arguments(args, runs=args.runs)
    run(args.workdir, args.sizes, seed=args.seed, runs=args.runs, options=options)


if __name__ == "__main__":
    main()
