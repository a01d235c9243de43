"""Command line: ``python -m tools.synthetic --people N --seed S -o DIR``.

Writes one CSV per agency and ``truth.csv``. ``--records N`` instead streams a
benchmark-sized data set of exactly N records. ``--habits all`` (or a list of
:data:`tools.synthetic.city.CITY_HABITS`) switches on the city habits and writes
``habits.csv``, each record's habit labels.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tools.synthetic.city import CITY_HABITS, parse_habits
from tools.synthetic.generator import generate
from tools.synthetic.profiles import DEFAULT_AGENCIES, PROFILES
from tools.synthetic.writer import write_dataset, write_large


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.synthetic",
        description="Generate synthetic multi-agency records with linkage truth.",
    )
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--people", type=int, help="number of distinct people")
    size.add_argument("--records", type=int, help="stream exactly this many records")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("-o", "--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--agencies",
        default=",".join(DEFAULT_AGENCIES),
        help=f"comma-separated agencies from {', '.join(PROFILES)}",
    )
    parser.add_argument(
        "--habits",
        default="none",
        help=f"city habits: none (default), all, or a list of {', '.join(CITY_HABITS)}",
    )
    parser.add_argument(
        "--labels", action="store_true", help="write habits.csv even without city habits"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    agencies = tuple(a.strip() for a in args.agencies.split(",") if a.strip())
    started = time.perf_counter()
    try:
        habits = parse_habits(args.habits)
        if args.records is not None:
            counts = write_large(
                args.out, args.records, args.seed, agencies=agencies, habits=habits,
                labels=args.labels,
            )  # fmt: skip
        else:
            dataset = generate(args.people, seed=args.seed, agencies=agencies, habits=habits)
            write_dataset(dataset, args.out, labels=args.labels)
            counts = {agency: len(rows) for agency, rows in dataset.records.items()}
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{agency} {count}" for agency, count in counts.items())
    print(f"wrote {sum(counts.values())} records ({summary}) to {args.out} in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
