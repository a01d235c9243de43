"""Tests for how the link benchmark picks each method's headline scores."""

from __future__ import annotations

import pytest

from benchmarks.bench_link import OURS, LinkOutcome
from benchmarks.link_runs import LinkRun
from linkage.evaluation import PairScores

GOOD = PairScores.from_counts(true_positives=90, false_positives=10, false_negatives=10)  # F1 0.9
POOR = PairScores.from_counts(true_positives=90, false_positives=900, false_negatives=10)


def _outcome(method: str, pairs: PairScores, clusters: PairScores | None) -> LinkOutcome:
    outcome = LinkOutcome(method, 1_000)
    outcome.add(LinkRun(method, 10, pairs, clusters, {"load+link": 2.0}, 2**30))
    return outcome


@pytest.mark.parametrize(
    ("method", "pairs", "clusters", "scored_on", "expected"),
    [
        (OURS, GOOD, POOR, "clusters", POOR),  # Crosswalk's output is its clusters
        ("splink (duckdb)", GOOD, POOR, "pairs", GOOD),  # over-merged clusters
        ("splink (duckdb)", POOR, GOOD, "clusters", GOOD),
        ("recordlinkage ECM", POOR, None, "pairs", POOR),  # no clustering
    ],
)
def test_headline_is_crosswalks_clusters_and_each_baselines_better_output(
    method: str,
    pairs: PairScores,
    clusters: PairScores | None,
    scored_on: str,
    expected: PairScores,
) -> None:
    outcome = _outcome(method, pairs, clusters)
    assert outcome.scored_on == scored_on
    assert outcome.metrics == expected


def test_outcome_keeps_the_median_time_and_the_largest_peak() -> None:
    outcome = LinkOutcome(OURS, 1_000)
    for seconds, peak in ((3.0, 2**20), (1.0, 3 * 2**20), (2.0, 2 * 2**20)):
        outcome.add(LinkRun(OURS, 10, GOOD, GOOD, {"load+link": seconds}, peak))
    assert outcome.median_seconds == 2.0
    assert outcome.peak_mib == 3.0


def test_outcome_without_a_run_has_no_scores() -> None:
    outcome = LinkOutcome("splink (duckdb)", 1_000, skipped="skipped: over budget")
    assert outcome.metrics is None
