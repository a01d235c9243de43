"""Encode throughput: records per second of ``crosswalk encode`` against plaintext floors.

Usage (from the repository root)::

    python -m benchmarks.bench_encode [--records 100000,1000000] [--runs 3] [--workdir DIR]

The input is one CSV in the canonical layout holding every agency's records of a
generated data set (see :mod:`benchmarks.synthetic_cache`). Three ways of turning it
into JSON Lines are timed, each run in a freshly spawned process so no cache is warm:

* ``crosswalk encode`` — :func:`linkage.encode.encode_file.encode_csv` with a fresh key and
  the default schema; files of 4 MB or more are encoded by a pool of one process
  per core, as in production;
* ``floor (csv+orjson)`` — read with :mod:`csv`, write each row with :mod:`orjson`,
  no normalisation or hashing: the cost of I/O alone;
* ``pandas+recordlinkage clean`` — what a plaintext linker does first: read with
  pandas, ``recordlinkage.preprocessing.clean`` the names and address, Soundex the
  names, write JSON Lines.

Reported: median wall time of the call (process start-up excluded), records per
second, and Crosswalk's rate over each baseline's rate.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from benchmarks.common import format_table, run_in_child
from benchmarks.options import add_common_arguments, parse_sizes, size_label
from benchmarks.synthetic_cache import canonical_csv, ensure_synthetic
from benchmarks.targets import ENCODE_RATE_MIN, Check, at_least
from linkage.encode.encode_file import encode_csv
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret, generate_secret
from linkage.schema import default_schema

__all__ = ["EncodeOutcome", "main", "run"]

_AGENCY = "benchmark"
_CLEANED = ("given_name", "middle_name", "family_name", "street_address", "city")
_SOUNDEX = ("given_name", "family_name")


def encode_crosswalk(source: Path, output: Path) -> tuple[int, float]:
    """``crosswalk encode``'s work: encode ``source`` with a fresh key; records and seconds."""
    encoder = RecordEncoder(default_schema(), LinkageSecret(generate_secret()), _AGENCY)
    start = time.perf_counter()
    report = encode_csv(source, output, encoder)
    return report.records, time.perf_counter() - start


def encode_floor(source: Path, output: Path) -> tuple[int, float]:
    """Copy ``source`` to JSON Lines with csv and orjson only; records and seconds."""
    start = time.perf_counter()
    count = 0
    with source.open(encoding="utf-8", newline="") as src, output.open("wb") as sink:
        reader = csv.reader(src)
        header = next(reader)
        for row in reader:
            sink.write(orjson.dumps(dict(zip(header, row, strict=True))) + b"\n")
            count += 1
    return count, time.perf_counter() - start


def encode_pandas(source: Path, output: Path) -> tuple[int, float]:
    """Plaintext preprocessing with pandas and recordlinkage; records and seconds."""
    import pandas as pd  # here, so the other methods' processes do not load pandas
    import recordlinkage.preprocessing as rlp

    start = time.perf_counter()
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    for column in _CLEANED:
        frame[column] = rlp.clean(frame[column])
    for column in _SOUNDEX:
        frame[f"{column}_soundex"] = rlp.phonetic(frame[column], "soundex")
    frame.to_json(output, orient="records", lines=True)
    return len(frame), time.perf_counter() - start


METHODS: dict[str, Callable[[Path, Path], tuple[int, float]]] = {
    "crosswalk encode": encode_crosswalk,
    "floor (csv+orjson)": encode_floor,
    "pandas+recordlinkage clean": encode_pandas,
}
_OURS = "crosswalk encode"
HEADERS = (
    "size", "method", "records", "median s", "runs s", "records/s", "crosswalk/this", "peak MiB",
)  # fmt: skip


@dataclass(frozen=True)
class EncodeOutcome:
    """Median time of one method on one input.

    Attributes:
        method: Key of :data:`METHODS`.
        records: Records written.
        seconds: Every run's wall time.
        median_seconds: Their median.
        peak_rss_mib: Largest peak RSS of the timing process (pool workers excluded).
    """

    method: str
    records: int
    seconds: tuple[float, ...]
    median_seconds: float
    peak_rss_mib: float

    @property
    def rate(self) -> float:
        """Records per second at the median time."""
        return self.records / self.median_seconds


def measure(method: str, source: Path, scratch: Path, runs: int) -> EncodeOutcome:
    """Run ``method`` ``runs`` times, each in a fresh process, and take the median."""
    output = scratch / f"encode-output-{method.split()[0]}.jsonl"
    records, seconds, peaks = 0, [], []
    try:
        for _ in range(runs):
            child = run_in_child(METHODS[method], source, output)
            records, elapsed = child.result
            seconds.append(elapsed)
            peaks.append(child.peak_rss_mib)
    finally:
        output.unlink(missing_ok=True)
    return EncodeOutcome(method, records, tuple(seconds), statistics.median(seconds), max(peaks))


def _checks(label: str, outcomes: dict[str, EncodeOutcome]) -> list[Check]:
    ours = outcomes[_OURS]
    checks = []
    for method, outcome in outcomes.items():
        if method == _OURS:
            continue
        checks.append(
            Check(
                benchmark=f"encode {label}",
                figure=f"records/s vs {method}",
                measured=f"{ours.rate:,.0f}",
                target=f">= {ENCODE_RATE_MIN:,.0f}",
                passed=at_least(ours.rate, ENCODE_RATE_MIN),
                baseline=f"{outcome.rate:,.0f}",
                ratio=f"{ours.rate / outcome.rate:.3f}",
            )
        )
    return checks


def run(workdir: Path, sizes: Sequence[int], *, seed: int, runs: int) -> list[Check]:
    """Measure every method at every size; print the details and return the checks."""
    checks: list[Check] = []
    rows: list[list[object]] = []
    for records in sizes:
        source = canonical_csv(ensure_synthetic(workdir, records, seed))
        size_mb = source.stat().st_size / 1e6
        print(f"encode {size_label(records)}: {source} ({size_mb:.1f} MB)", flush=True)
        outcomes = {m: measure(m, source, workdir, runs) for m in METHODS}
        for outcome in outcomes.values():
            ratio = outcomes[_OURS].rate / outcome.rate
            rows.append(
                [size_label(records), outcome.method, outcome.records,
                 f"{outcome.median_seconds:.2f}", " ".join(f"{s:.2f}" for s in outcome.seconds),
                 f"{outcome.rate:,.0f}", f"{ratio:.3f}", f"{outcome.peak_rss_mib:.0f}"]
            )  # fmt: skip
            print(f"  {outcome.method}: {outcome.rate:,.0f} records/s", flush=True)
        checks.extend(_checks(size_label(records), outcomes))
    print()
    print(format_table(HEADERS, rows))
    print("peak MiB is the timing process only; the encode pool's workers are not included\n")
    return checks


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: measure the encode rate and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records", type=parse_sizes, default=[100_000], help="comma-separated sizes"
    )
    parser.add_argument("--runs", type=int, default=3, help="repetitions per method (median)")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    run(args.workdir, args.records, seed=args.seed, runs=args.runs)


if __name__ == "__main__":
    main()
