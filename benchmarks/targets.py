"""Crosswalk's performance and quality targets, and the PASS/FAIL summary table.

Each benchmark returns :class:`Check` rows: one measured figure, the target it is
held to (if any), the plaintext baseline measured in the same run and the ratio
between them. :func:`summary_table` renders them for the end of ``run_all``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from benchmarks.common import format_table

__all__ = [
    "ENCODE_RATE_MIN",
    "FEBRL3_F1_MIN",
    "FEBRL4_F1_MIN",
    "LINK_PEAK_BYTES_MAX",
    "LINK_SECONDS_MAX",
    "LINK_TARGET_RECORDS",
    "Check",
    "at_least",
    "at_most",
    "summary_table",
]

ENCODE_RATE_MIN = 20_000.0
"""Records per second of ``crosswalk encode`` on the canonical layout."""
LINK_TARGET_RECORDS = 1_000_000
"""The link targets below are stated for this many records."""
LINK_SECONDS_MAX = 300.0
"""Load and link of one million encoded records, in seconds."""
LINK_PEAK_BYTES_MAX = 8 * 10**9
"""Peak resident memory of that run (8 GB, decimal, the stricter reading)."""
FEBRL4_F1_MIN = 0.995
"""Pairwise F1 of the hashed pipeline on FEBRL4 without ssn."""
FEBRL3_F1_MIN = 0.99
"""Pairwise F1 of the hashed pipeline on FEBRL3 with every field."""


@dataclass(frozen=True)
class Check:
    """One figure of the summary.

    Attributes:
        benchmark: Which benchmark and case, e.g. ``"link 100k"``.
        figure: What was measured, e.g. ``"time s"``.
        measured: The figure, formatted.
        target: The target, formatted, or ``"-"`` when none applies.
        passed: Whether the target was met; ``None`` when there is no target.
        baseline: The plaintext baseline's figure, formatted, or ``"-"``.
        ratio: Ours over the baseline, formatted, or ``"-"``.
    """

    benchmark: str
    figure: str
    measured: str
    target: str = "-"
    passed: bool | None = None
    baseline: str = "-"
    ratio: str = "-"

    @property
    def status(self) -> str:
        """``PASS``, ``FAIL`` or ``info`` (no target)."""
        if self.passed is None:
            return "info"
        return "PASS" if self.passed else "FAIL"


def at_least(value: float, minimum: float) -> bool:
    """Whether a higher-is-better figure meets its target."""
    return value >= minimum


def at_most(value: float, maximum: float) -> bool:
    """Whether a lower-is-better figure meets its target."""
    return value <= maximum


SUMMARY_HEADERS = (
    "benchmark",
    "figure",
    "measured",
    "target",
    "status",
    "baseline",
    "ours/baseline",
)


def summary_table(checks: Iterable[Check]) -> str:
    """The final table: every figure with its target, status, baseline and ratio."""
    return format_table(
        SUMMARY_HEADERS,
        (
            (c.benchmark, c.figure, c.measured, c.target, c.status, c.baseline, c.ratio)
            for c in checks
        ),
    )
