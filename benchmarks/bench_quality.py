"""Error analysis: link quality per habit on generated city-like data, at several sizes.

Usage (from the repository root)::

    python -m benchmarks.bench_quality [--sizes 20k,100k] [--seed 1] [--habits all]

For each size, :mod:`tools.synthetic` writes a data set of that many records
with the city habits switched on (:mod:`tools.synthetic.city`; the four
agencies including EMS) and a ``habits.csv`` naming the habits behind each
record; it is cached in ``WORKDIR/city-N-seedS-G/`` (``G`` fingerprints the
generator). The records are encoded under a throw-away key and linked exactly
as :func:`linkage.evaluate.evaluate_files` does, and the clusters are scored:

* overall cluster precision, recall and F1 (pairs of records in one subject
  against pairs of records of one person);
* per habit (:func:`linkage.evaluation.habit_scores`): recall of the true
  pairs touching the habit's records, the false pairs they are part of (and
  their share of all false pairs) and the false-merge rate — the share of
  the habit's records that sit in a subject with another person's record.

A regression in one class of habit (twins, approximate dates, …) shows in its
row even when the overall F1 hardly moves.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.options import add_common_arguments, parse_sizes, size_label
from benchmarks.synthetic_cache import source_fingerprint
from linkage.evaluate import evaluate_files, load_evaluation_dataset
from linkage.evaluation import (
    PairScores,
    format_habit_table,
    habit_scores,
    read_habits_csv,
    read_truth_labels,
)
from tools.synthetic import PROFILES, write_large
from tools.synthetic.city import parse_habits

__all__ = ["QualityRun", "city_dataset", "main", "measure"]

_GENERATOR = Path(__file__).resolve().parents[1] / "tools" / "synthetic"


class QualityRun:
    """Scores of one linked data set: overall and per habit."""

    def __init__(self, records: int, scores: PairScores, table: str, seconds: float) -> None:
        self.records = records
        self.scores = scores
        self.table = table
        self.seconds = seconds


def city_dataset(workdir: Path, records: int, seed: int, habits: str) -> Path:
    """The cached generated data set (written first if missing)."""
    enabled = parse_habits(habits)
    tag = "-".join(sorted(enabled)) if 0 < len(enabled) < 4 else ("all" if enabled else "none")
    folder = workdir / f"city-{records}-seed{seed}-{tag}-{source_fingerprint(_GENERATOR)}"
    if not (folder / "habits.csv").exists():
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        write_large(tmp, records, seed, agencies=tuple(PROFILES), habits=enabled, labels=True)
        tmp.rename(folder)
    return folder


def measure(folder: Path) -> QualityRun:
    """Encode, link and score one data set folder (agency CSVs, truth, habits)."""
    files, truth = load_evaluation_dataset(str(folder))
    started = time.perf_counter()
    report = evaluate_files(files, truth)
    seconds = time.perf_counter() - started
    assert report.result is not None
    keys = report.result.table.keys()
    subject_of = dict(zip(keys, report.result.subject_ids, strict=True))
    per_habit = habit_scores(
        read_truth_labels(folder / "truth.csv"), subject_of, read_habits_csv(folder / "habits.csv")
    )
    return QualityRun(report.records, report.scores, format_habit_table(per_habit), seconds)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: generate, link and print the per-habit table at each size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=parse_sizes, default=[20_000], help="comma-separated")
    parser.add_argument("--habits", default="all", help="city habits (default all)")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    summary = []
    for records in args.sizes:
        run = measure(city_dataset(args.workdir, records, args.seed, args.habits))
        s = run.scores
        print(f"\n{size_label(records)} records (seed {args.seed}, habits {args.habits}):")
        print(
            f"cluster precision {s.precision:.4f}  recall {s.recall:.4f}  F1 {s.f1:.4f}  "
            f"(true pairs {s.true_pairs}, predicted {s.predicted_pairs}; {run.seconds:.0f}s)"
        )
        print(run.table, flush=True)
        summary.append((size_label(records), s))
    if len(summary) > 1:
        print("\nsize   precision  recall  F1")
        for label, s in summary:
            print(f"{label:6s} {s.precision:9.4f}  {s.recall:6.4f}  {s.f1:.4f}")


if __name__ == "__main__":
    main()
