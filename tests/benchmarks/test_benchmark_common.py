"""Tests for the benchmark helpers: pair metrics, clusters, timing, child runs."""

from __future__ import annotations

import sys

import pytest

from benchmarks.baselines import BaselineUnavailable, splink_duckdb
from benchmarks.common import (
    Stopwatch,
    format_table,
    median_of,
    pair_metrics,
    pairs_from_clusters,
    run_in_child,
)
from linkage.datasets import BenchmarkDataset, PairKey
from linkage.evaluation import PairScores

A1, A2, B1, B2 = ("a", "1"), ("a", "2"), ("b", "1"), ("b", "2")


@pytest.mark.parametrize(
    ("predicted", "truth", "expected"),
    [
        ({(A1, B1), (A2, B2)}, {(A1, B1), (A2, B2)}, PairScores.from_counts(2, 0, 0)),
        ({(A1, B1), (A1, B2)}, {(A1, B1), (A2, B2)}, PairScores.from_counts(1, 1, 1)),
        (set(), {(A1, B1)}, PairScores.from_counts(0, 0, 1)),
        ({(B1, A1)}, {(A1, B1)}, PairScores.from_counts(1, 0, 0)),  # order within a pair ignored
    ],
)
def test_pair_metrics_counts_hits_misses_and_false_alarms(
    predicted: set[PairKey], truth: set[PairKey], expected: PairScores
) -> None:
    assert pair_metrics(predicted, truth) == expected


def test_pair_scores_follow_their_definitions() -> None:
    metrics = PairScores.from_counts(true_positives=3, false_positives=1, false_negatives=2)
    assert metrics.precision == pytest.approx(0.75)
    assert metrics.recall == pytest.approx(0.6)
    assert metrics.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)


def test_empty_prediction_has_full_precision_and_zero_f1() -> None:
    metrics = PairScores.from_counts(0, 0, 5)
    assert (metrics.precision, metrics.recall, metrics.f1) == (1.0, 0.0, 0.0)


def test_pairs_from_clusters_gives_every_sorted_pair_within_each_cluster() -> None:
    pairs = pairs_from_clusters([[B1, A1, A2], [B2], [B2, B2]])
    assert pairs == {(A1, A2), (A1, B1), (A2, B1)}


def test_stopwatch_accumulates_repeated_stages() -> None:
    timer = Stopwatch()
    for _ in range(2):
        with timer.stage("work"):
            pass
    with timer.stage("other"):
        pass
    assert list(timer.stages) == ["work", "other"]
    assert timer.total == pytest.approx(sum(timer.stages.values()))


def test_stopwatch_records_a_stage_that_raises() -> None:
    timer = Stopwatch()
    with pytest.raises(ZeroDivisionError), timer.stage("failing"):
        _ = 1 / 0
    assert "failing" in timer.stages


def test_median_of_runs_the_work_each_time_and_keeps_the_last_result() -> None:
    calls: list[int] = []

    def work() -> int:
        calls.append(len(calls))
        return len(calls)

    timed = median_of(3, work)
    assert calls == [0, 1, 2]
    assert timed.result == 3
    assert len(timed.seconds) == 3
    assert min(timed.seconds) <= timed.median_seconds <= max(timed.seconds)


def test_median_of_refuses_zero_runs() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        median_of(0, lambda: None)


def test_run_in_child_returns_the_result_and_a_plausible_peak_rss() -> None:
    child = run_in_child(sorted, [3, 1, 2])
    assert child.result == [1, 2, 3]
    assert 1 < child.peak_rss_mib < 4096
    assert child.seconds >= 0


def test_format_table_aligns_columns_and_rounds_floats() -> None:
    table = format_table(["name", "F1"], [["a", 0.98765], ["longer", 1]])
    assert table.splitlines() == [
        "name    F1",
        "------  ------",
        "a       0.9877",
        "longer  1",
    ]


def test_splink_baseline_reports_unavailable_when_splink_cannot_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "benchmarks.splink_model", None)
    dataset = BenchmarkDataset("empty", {}, frozenset())
    with pytest.raises(BaselineUnavailable, match="splink cannot be imported"):
        splink_duckdb(dataset)
