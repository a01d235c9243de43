"""Run every Crosswalk benchmark and print each figure next to its target.

Usage (from the repository root)::

    python -m benchmarks.run_all [--sizes 10000,100000,1000000] [--only link] ...

Benchmarks (``--only`` picks some; repeatable, default all):

* ``encode`` — records/s of ``crosswalk encode`` at ``--encode-sizes`` against
  plaintext floors (:mod:`benchmarks.bench_encode`);
* ``link`` — load+link time, peak memory and pairwise quality at ``--sizes`` against
  Splink and recordlinkage, within ``--baseline-budget`` (:mod:`benchmarks.bench_link`);
* ``febrl`` — FEBRL3/FEBRL4 quality against the same baselines
  (:mod:`benchmarks.bench_febrl`).

Generated data is cached in ``--workdir`` between runs. Everything runs one process
at a time, so figures are not disturbed by the benchmark itself; they are disturbed
by anything else running on the machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from collections.abc import Sequence

from benchmarks import bench_encode, bench_febrl, bench_link
from benchmarks.budget import BaselineOptions
from benchmarks.options import add_common_arguments, parse_sizes
from benchmarks.targets import Check, summary_table

__all__ = ["BENCHMARKS", "main"]

BENCHMARKS = ("encode", "link", "febrl")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=[10_000, 100_000],
        help="records per link benchmark data set, comma-separated (default 10000,100000)",
    )
    parser.add_argument(
        "--encode-sizes",
        type=parse_sizes,
        default=[100_000],
        help="records of the encode benchmark's CSV, comma-separated (default 100000)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS,
        help="run only this benchmark (repeatable; default all)",
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="repetitions for encode and FEBRL (median; default 3)"
    )
    parser.add_argument(
        "--link-runs", type=int, default=1, help="repetitions per link run (median; default 1)"
    )
    BaselineOptions.add_arguments(parser)
    add_common_arguments(parser)
    return parser


def _revision() -> str:
    """The checked-out commit, ``-dirty`` when the tree has changes (figures depend on it)."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the chosen benchmarks and print the summary table."""
    args = _parser().parse_args(argv)
    chosen = [b for b in BENCHMARKS if b in (args.only or BENCHMARKS)]
    start = time.perf_counter()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"revision {_revision()}; workdir {args.workdir}; {os.cpu_count()} CPUs; load {load}\n")
    checks: list[Check] = []
    if "encode" in chosen:
        checks += bench_encode.run(args.workdir, args.encode_sizes, seed=args.seed, runs=args.runs)
    if "link" in chosen:
        options = BaselineOptions.from_arguments(args, runs=args.link_runs)
        checks += bench_link.run(
            args.workdir, args.sizes, seed=args.seed, runs=args.link_runs, options=options
        )
    if "febrl" in chosen:
        checks += bench_febrl.run(runs=args.runs)
    print(summary_table(checks))
    failed = sum(check.passed is False for check in checks)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{failed} target(s) failed; total {time.perf_counter() - start:.0f}s; load {load}")


if __name__ == "__main__":
    main()
