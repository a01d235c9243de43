import numpy as np

from linkage.match.blocking import BlockingRule, candidate_pairs

from .helpers import table_of

ROWS = [
    {"given_name": "Ann", "family_name": "Lee", "birth_date": "1980-03-07"},
    {"given_name": "Anne", "family_name": "Lee", "birth_date": "1980-03-07"},
    {"given_name": "Lee", "family_name": "Ann", "birth_date": "1990-01-01"},
    {"given_name": "Zed", "family_name": "Okafor", "birth_date": "1950-12-30"},
]


def _pairs(rules: tuple[BlockingRule, ...], max_block: int = 100) -> set[tuple[int, int]]:
    left, right, _ = candidate_pairs(table_of(ROWS), rules, max_block=max_block)
    assert np.all(left < right)
    return set(zip(left.tolist(), right.tolist(), strict=True))


def test_records_sharing_a_key_become_candidates_and_others_do_not() -> None:
    assert _pairs((BlockingRule(("birth_date.exact",)),)) == {(0, 1)}


def test_union_of_passes_without_duplicates() -> None:
    rules = (BlockingRule(("birth_date.exact",)), BlockingRule(("family_name.phonetic",)))
    left, _right, counts = candidate_pairs(table_of(ROWS), rules)
    assert len(left) == 1
    assert counts == {"birth_date.exact": 1, "family_name.phonetic": 1}


def test_unordered_rule_catches_swapped_names() -> None:
    ordered = BlockingRule(("given_name.phonetic", "family_name.phonetic"))
    unordered = BlockingRule(("given_name.phonetic", "family_name.phonetic"), unordered=True)
    assert (0, 2) not in _pairs((ordered,))
    assert (0, 2) in _pairs((unordered,))


def test_list_valued_tokens_block_on_any_value() -> None:
    rows = [{"given_name": "Bill"}, {"given_name": "William"}, {"given_name": "Robert"}]
    left, right, _ = candidate_pairs(table_of(rows), (BlockingRule(("given_name.canonical",)),))
    pairs = set(zip(left.tolist(), right.tolist(), strict=True))
    assert {(0, 1), (0, 2)} <= pairs  # "bill" is a nickname of both william and robert
    assert (1, 2) not in pairs


def test_hot_blocks_are_skipped() -> None:
    rows = [{"birth_date": "1980-03-07"} for _ in range(6)]
    rule = (BlockingRule(("birth_date.exact",)),)
    assert len(candidate_pairs(table_of(rows), rule, max_block=6)[0]) == 15
    assert len(candidate_pairs(table_of(rows), rule, max_block=5)[0]) == 0


def test_records_missing_a_token_never_block_on_it() -> None:
    rows = [{"given_name": "Ann"}, {"given_name": "Bob"}]
    assert len(candidate_pairs(table_of(rows), (BlockingRule(("birth_date.exact",)),))[0]) == 0
