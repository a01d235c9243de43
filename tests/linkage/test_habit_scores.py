"""Per-habit error analysis of a clustering against the truth."""

from __future__ import annotations

from linkage.evaluation import format_habit_table, habit_scores


def test_recall_and_false_merges_are_counted_per_habit() -> None:
    a, b, c, d = ("x", "1"), ("x", "2"), ("x", "3"), ("x", "4")
    person = {a: "P1", b: "P1", c: "P2", d: "P3"}
    subject = {a: "S1", b: "S2", c: "S2", d: "S3"}  # the P1 pair missed; b merged with P2
    habits = {b: ("twin",), c: ("twin",), d: ("typo",)}
    scores = {s.habit: s for s in habit_scores(person, subject, habits)}
    assert (scores["all"].records, scores["all"].true_pairs, scores["all"].found_pairs) == (4, 1, 0)
    assert scores["all"].false_pairs == 1
    twin = scores["twin"]
    assert (twin.records, twin.recall, twin.false_pairs, twin.false_merge_rate) == (2, 0.0, 1, 1.0)
    assert twin.false_pair_share == 1.0
    assert scores["typo"].false_merge_rate == 0.0
    assert format_habit_table(list(scores.values())).splitlines()[2].startswith("all")
