"""Tests for the baseline time budget: power-law extrapolation and skip decisions."""

from __future__ import annotations

import pytest

from benchmarks.budget import BaselineBudget, predicted_seconds, scaling_exponent


@pytest.mark.parametrize(
    ("history", "default", "expected"),
    [
        ([], 1.5, 1.5),
        ([(10_000, 4.0)], 1.5, 1.5),
        ([(10_000, 4.0), (100_000, 40.0)], 1.5, 1.0),  # linear
        ([(10_000, 4.0), (100_000, 400.0)], 1.5, 2.0),  # quadratic
        ([(10_000, 4.0), (100_000, 4000.0)], 1.5, 2.0),  # cubic is clamped
        ([(10_000, 4.0), (100_000, 2.0)], 1.5, 1.0),  # faster when larger: clamped
        ([(10_000, 1.0), (20_000, 1.0), (40_000, 2.0)], 2.0, 1.0),  # last two only
        ([], 3.0, 2.0),  # the default is clamped as well
    ],
)
def test_scaling_exponent_is_fitted_on_the_last_two_runs_and_clamped(
    history: list[tuple[int, float]], default: float, expected: float
) -> None:
    assert scaling_exponent(history, default) == pytest.approx(expected)


def test_predicted_seconds_extrapolates_from_the_largest_run() -> None:
    assert predicted_seconds([], 1_000, 1.0) is None
    assert predicted_seconds([(10_000, 5.0)], 100_000, 1.0) == pytest.approx(50.0)
    assert predicted_seconds([(10_000, 5.0)], 100_000, 2.0) == pytest.approx(500.0)
    history = [(10_000, 2.0), (100_000, 20.0)]
    assert predicted_seconds(history, 1_000_000, 2.0) == pytest.approx(200.0)


def test_budget_runs_a_size_predicted_to_fit_and_skips_one_predicted_not_to() -> None:
    budget = BaselineBudget(budget_seconds=600, default_exponent=1.5)
    assert budget.skip_reason(10_000) is None  # nothing known yet
    budget.finished(10_000, 10.0)
    assert budget.skip_reason(100_000) is None  # 10 * 10**1.5 = 316 s
    budget.finished(100_000, 300.0)  # grew like n**1.48
    reason = budget.skip_reason(1_000_000)
    assert reason is not None
    assert reason.startswith("skipped: over budget at this size")


def test_budget_skips_every_size_from_the_one_that_was_killed() -> None:
    budget = BaselineBudget(budget_seconds=600)
    budget.killed(100_000)
    assert budget.skip_reason(10_000) is None
    assert budget.skip_reason(100_000) is not None
    assert budget.skip_reason(1_000_000) is not None
