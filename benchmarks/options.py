"""Command-line options shared by the benchmark scripts: sizes, work directory, seed."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

__all__ = ["DEFAULT_WORKDIR", "add_common_arguments", "parse_sizes", "size_label"]

DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "crosswalk-bench"
"""Fixed, so that generated data is reused by the next run."""


def parse_sizes(text: str) -> list[int]:
    """Parse ``"10000,100k,1M"`` into sorted, distinct record counts.

    Raises:
        argparse.ArgumentTypeError: If a size is not a positive integer.
    """
    sizes = set()
    for part in text.split(","):
        token = part.strip().lower().replace("_", "")
        if not token:
            continue
        factor = {"k": 1_000, "m": 1_000_000}.get(token[-1], 1)
        digits = token[:-1] if factor > 1 else token
        if not digits.isdigit() or int(digits) == 0:
            raise argparse.ArgumentTypeError(f"not a positive record count: {part.strip()!r}")
        sizes.add(int(digits) * factor)
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    return sorted(sizes)


def size_label(records: int) -> str:
    """``1000000`` → ``"1M"``, ``100000`` → ``"100k"``, ``1234`` → ``"1234"``."""
    if records % 1_000_000 == 0:
        return f"{records // 1_000_000}M"
    if records % 1_000 == 0:
        return f"{records // 1_000}k"
    return str(records)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--workdir`` and ``--seed``."""
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help=f"cache of generated data, reused between runs (default {DEFAULT_WORKDIR})",
    )
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
