"""Deciding whether a plaintext baseline can finish a larger size within a time budget.

Baselines are run from the smallest size up. Before each size, the wall time of the
runs so far is extrapolated as a power law ``t(n) = t(m) · (n / m)^k``: with two or
more earlier sizes, ``k`` is fitted on the last two (clamped between 1, linear, and 2,
quadratic in the number of records, which bounds blocking-based linkers); with one,
``k`` is the caller's default. A baseline predicted to exceed the budget, or that
was already killed (over time or memory) at a smaller size, is skipped.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["BaselineBudget", "BaselineOptions", "predicted_seconds", "scaling_exponent"]

_MIN_EXPONENT = 1.0
_MAX_EXPONENT = 2.0


def scaling_exponent(history: Sequence[tuple[int, float]], default: float) -> float:
    """The power-law exponent of time in size, fitted on the last two runs.

    Args:
        history: ``(records, seconds)`` of finished runs, in increasing size.
        default: The exponent to use with fewer than two runs (or equal sizes).

    Returns:
        The exponent, clamped to ``[1, 2]``.
    """
    if len(history) >= 2:
        (small, t_small), (large, t_large) = history[-2], history[-1]
        if large > small and t_small > 0 and t_large > 0:
            fitted = math.log(t_large / t_small) / math.log(large / small)
            return min(max(fitted, _MIN_EXPONENT), _MAX_EXPONENT)
    return min(max(default, _MIN_EXPONENT), _MAX_EXPONENT)


def predicted_seconds(
    history: Sequence[tuple[int, float]], records: int, default_exponent: float
) -> float | None:
    """Extrapolated wall time at ``records`` from earlier runs; ``None`` without any.

    Args:
        history: ``(records, seconds)`` of finished runs, in increasing size.
        records: The size to predict.
        default_exponent: Exponent used when only one run is known.
    """
    if not history:
        return None
    size, seconds = history[-1]
    exponent = scaling_exponent(history, default_exponent)
    return float(seconds * (records / size) ** exponent)


@dataclass
class BaselineBudget:
    """The time budget of one baseline across increasing sizes.

    Attributes:
        budget_seconds: Wall time a run may take.
        default_exponent: Scaling exponent assumed from a single earlier size.
        memory_bytes: Resident memory a run may use, if limited.
        history: ``(records, seconds)`` of the runs that finished.
        killed_at: Size at which a run was stopped at the budget, if any.
    """

    budget_seconds: float
    default_exponent: float = 1.5
    memory_bytes: int | None = None
    history: list[tuple[int, float]] = field(default_factory=list)
    killed_at: int | None = None

    def skip_reason(self, records: int) -> str | None:
        """Why ``records`` should not be attempted, or ``None`` to run it."""
        if self.killed_at is not None and records >= self.killed_at:
            return f"skipped: over budget at {self.killed_at} records already"
        predicted = predicted_seconds(self.history, records, self.default_exponent)
        if predicted is not None and predicted > self.budget_seconds:
            return (
                f"skipped: over budget at this size (predicted {predicted:.0f}s "
                f"> {self.budget_seconds:.0f}s)"
            )
        return None

    def finished(self, records: int, seconds: float) -> None:
        """Record a finished run."""
        self.history.append((records, seconds))

    def killed(self, records: int) -> None:
        """Record a run stopped at the budget."""
        self.killed_at = records if self.killed_at is None else min(self.killed_at, records)


@dataclass(frozen=True)
class BaselineOptions:
    """How the link benchmark runs its plaintext baselines.

    Attributes:
        budget_seconds: Wall time a run may take before it is killed.
        memory_gb: Resident memory (decimal GB) a run may use before it is killed.
        input: ``normalized`` (as the encoder normalises) or ``raw`` plaintext.
        blocking: ``scalable`` (``link_runs.SCALABLE_BLOCKS``) or ``febrl`` passes.
        runs: Repetitions per size (median time).
        default_exponent: Scaling exponent assumed from a single earlier size; between
            linear and quadratic, as blocks grow with the data.
    """

    budget_seconds: float = 600.0
    memory_gb: float = 8.0
    input: Literal["normalized", "raw"] = "normalized"
    blocking: Literal["scalable", "febrl"] = "scalable"
    runs: int = 1
    default_exponent: float = 1.5

    @property
    def blocks(self) -> tuple[tuple[str, ...], ...]:
        """The blocking passes named by :attr:`blocking`."""
        if self.blocking == "febrl":
            from benchmarks.baselines import FEBRL_BLOCKS  # pandas: only when asked

            return FEBRL_BLOCKS
        from benchmarks.link_runs import SCALABLE_BLOCKS

        return SCALABLE_BLOCKS

    def budget(self) -> BaselineBudget:
        """A fresh budget for one baseline across the sizes."""
        return BaselineBudget(self.budget_seconds, self.default_exponent, int(self.memory_gb * 1e9))

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """Add the ``--baseline-{budget,memory,input,blocking}`` options."""
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
        parser.add_argument(
            "--baseline-blocking",
            choices=("scalable", "febrl"),
            default="scalable",
            help="baseline blocking passes (default: scalable; febrl grows quadratically)",
        )

    @classmethod
    def from_arguments(cls, args: argparse.Namespace, *, runs: int) -> BaselineOptions:
        """The options parsed by :meth:`add_arguments`."""
        return cls(
            args.baseline_budget, args.baseline_memory, args.baseline_input,
            args.baseline_blocking, runs,
        )  # fmt: skip
