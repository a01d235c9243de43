"""Incremental linking against a stored index: latency, throughput, resolve.

Usage (from the repository root)::

    python -m benchmarks.bench_incremental [--records 1000000] [--singles 500]

One generated data set (see :mod:`benchmarks.synthetic_cache`, encoded once and
cached) is split at random into *stored* records and held-out *new* ones. The
stored records go into a :class:`~linkage.match.index.LinkIndex` with their true
person as subject (a batch run over a million records would take minutes and
is not what is measured here); the model is trained by ``link_table`` on a
sample of 100k stored records. Then:

* **single** — ``link_batch`` of one new record, then ``index.apply``: p50/p99
  latency over ``--singles`` records (target p50 <= 10 ms, p99 <= 50 ms at 1M);
* **bulk** — ``link_batch`` + ``apply`` of batches of ``--batch`` records:
  records per second (target >= 5,000);
* **resolve** — ``resolve`` of one held-out record: p50/p99 and requests per
  second in one process (target >= 300/s), and how often the true person's
  subject is ranked first when that person has stored records.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.common import Stopwatch, format_table, peak_rss_bytes
from benchmarks.options import add_common_arguments, size_label
from benchmarks.synthetic_cache import encoded_files, ensure_synthetic
from linkage.match.incremental import link_batch, resolve
from linkage.match.index import LinkIndex
from linkage.match.model import FellegiSunterModel
from linkage.match.pipeline import link_table
from linkage.match.table_ops import take_rows
from linkage.table import EncodedTable, load_encoded_files

__all__ = ["main"]

_TRAIN_SAMPLE = 100_000


def _persons(truth: Path) -> dict[tuple[str, str], str]:
    with truth.open(encoding="utf-8", newline="") as handle:
        return {(r["agency"], r["record_id"]): r["person_id"] for r in csv.DictReader(handle)}


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.asarray(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _singles(index: LinkIndex, table: EncodedTable, model: FellegiSunterModel) -> list[float]:
    seconds = []
    for row in range(len(table)):
        one = take_rows(table, np.array([row]))
        start = time.perf_counter()
        index.apply(link_batch(index, one, model))
        seconds.append(time.perf_counter() - start)
    return seconds


def _bulk(index: LinkIndex, table: EncodedTable, model: FellegiSunterModel, size: int) -> float:
    start = time.perf_counter()
    for first in range(0, len(table), size):
        rows = np.arange(first, min(first + size, len(table)))
        index.apply(link_batch(index, take_rows(table, rows), model))
    return len(table) / (time.perf_counter() - start)


def _resolves(
    index: LinkIndex,
    table: EncodedTable,
    model: FellegiSunterModel,
    person: dict[tuple[str, str], str],
) -> tuple[list[float], float]:
    """Latencies, and the share of known people whose subject is ranked first."""
    seconds, hits, known = [], 0, 0
    for row in range(len(table)):
        one = take_rows(table, np.array([row]))
        start = time.perf_counter()
        ranked = resolve(index, one, model)
        seconds.append(time.perf_counter() - start)
        true_subject = f"S-{person[one.keys()[0]]}"
        if index.members(true_subject):
            known += 1
            hits += bool(ranked) and ranked[0].subject_id == true_subject
    return seconds, hits / max(known, 1)


def _inputs(
    records: int, seed: int, workdir: Path, encoded: Path | None
) -> tuple[list[Path], Path]:
    """Encoded files and the truth file: from ``encoded`` if given, else the cache."""
    if encoded is not None:
        return sorted(encoded.glob("*.jsonl")), encoded / "truth.csv"
    dataset = ensure_synthetic(workdir, records, seed)
    return encoded_files(dataset), dataset.truth


def run(
    records: int, seed: int, workdir: Path, singles: int, batch: int, encoded: Path | None = None
) -> list[list[object]]:
    """Build the index and measure; returns the summary rows."""
    timer = Stopwatch()
    files, truth = _inputs(records, seed, workdir, encoded)
    with timer.stage("load"):
        table = load_encoded_files(files)
    person = _persons(truth)
    order = np.random.default_rng(seed).permutation(len(table))
    held = [order[:singles], order[singles : singles + 5 * batch], order[-singles:]]
    stored = take_rows(table, np.sort(order[singles + 5 * batch : -singles]))
    with timer.stage("train"):
        model = link_table(take_rows(stored, np.arange(min(_TRAIN_SAMPLE, len(stored))))).model
    with timer.stage("build index"):
        stored_keys = stored.keys()
        index = LinkIndex.from_table(stored, [f"S-{person[k]}" for k in stored_keys])
    single = _singles(index, take_rows(table, held[0]), model)
    rate = _bulk(index, take_rows(table, held[1]), model, batch)
    lookups, first = _resolves(index, take_rows(table, held[2]), model, person)
    label = size_label(len(stored))
    p50, p99 = _percentiles(single)
    r50, r99 = _percentiles(lookups)
    return [
        [label, "load / train / build index s", " / ".join(
            f"{timer.stages[s]:.1f}" for s in ("load", "train", "build index"))],
        [label, f"single record link+apply p50 / p99 ms (n={singles})", f"{p50:.2f} / {p99:.2f}"],
        [label, f"bulk {batch}-record batches records/s", f"{rate:,.0f}"],
        [label, f"resolve p50 / p99 ms (n={singles})", f"{r50:.2f} / {r99:.2f}"],
        [label, "resolve requests/s (one process)", f"{1 / statistics.mean(lookups):,.0f}"],
        [label, "resolve: true subject ranked first", f"{first:.3f}"],
        [label, "peak RSS GiB", f"{peak_rss_bytes() / 2**30:.2f}"],
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--records", type=int, default=1_000_000, help="data set size")
    parser.add_argument("--singles", type=int, default=500, help="single links and resolves")
    parser.add_argument("--batch", type=int, default=1000, help="records per bulk batch")
    parser.add_argument(
        "--encoded",
        type=Path,
        default=None,
        help="directory of encoded AGENCY.jsonl files and truth.csv to use instead of the "
        "cache (whose entry is keyed by the engine's source, so every edit re-encodes)",
    )
    args = parser.parse_args(argv)
    rows = run(args.records, args.seed, args.workdir, args.singles, args.batch, args.encoded)
    print(format_table(("stored", "figure", "value"), rows))


if __name__ == "__main__":
    main()
