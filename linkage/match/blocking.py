"""Blocking: which pairs of records are compared at all.

Comparing every pair is quadratic, so candidate pairs are those that agree on at
least one *blocking key* — a combination of keyed tokens such as (given-name
phonetic code, family-name phonetic code). Several passes with different keys are
unioned, so a pair only needs to survive one of them: a typo in the surname is
caught by the date-of-birth pass, a missing birth date by the name pass, a changed
surname by the given-name + phone pass, and so on.

A key shared by very many records (a blocking "hot spot", e.g. one of the most
common names in a large region) would produce a quadratic number of useless pairs;
such blocks are skipped, since the other passes cover their true matches.
List-valued tokens (nickname forms) contribute one key per value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from linkage.table import MULTI_TOKENS, EncodedTable

__all__ = ["DEFAULT_RULES", "BlockingRule", "candidate_pairs", "rule_keys"]

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class BlockingRule:
    """Records are candidates when every listed token is present and equal.

    With ``unordered``, the tokens are compared as a set (they must share a key, as
    the given- and family-name phonetic codes do), so swapped names still block.
    A ``broad`` rule is a fallback for records whose names are garbled (e.g. name
    phonetic code and postcode): its blocks grow with the size of a region, so
    its hot blocks are neither refined nor kept beyond ``_BROAD_MAX_BLOCK``.
    """

    tokens: tuple[str, ...]
    unordered: bool = False
    broad: bool = False

    @property
    def name(self) -> str:
        """Human-readable rule name, e.g. ``given_name.phonetic+family_name.phonetic``."""
        return ("~" if self.unordered else "+").join(self.tokens)


def _rule(*tokens: str, unordered: bool = False, broad: bool = False) -> BlockingRule:
    return BlockingRule(tokens, unordered, broad)


_BROAD_MAX_BLOCK = 20


#: Each pass is specific enough that blocks stay small as the data grows (a pass
#: on birth date alone would put ~30 records in every block at a million records);
#: together they still catch a typo in any single field and most double errors.
DEFAULT_RULES: tuple[BlockingRule, ...] = (
    _rule("given_name.phonetic", "family_name.phonetic"),
    _rule("given_name.canonical", "family_name.phonetic"),
    _rule("given_name.phonetic", "family_name.phonetic", unordered=True),
    _rule("birth_date.exact"),
    _rule("birth_date.swapped", "family_name.phonetic"),
    _rule("birth_date.monthday", "family_name.phonetic"),
    _rule("birth_date.monthday", "given_name.canonical"),
    _rule("birth_date.year", "given_name.initial", "family_name.initial", broad=True),
    _rule("ssn.exact"),
    _rule("phone.exact"),
    _rule("street_address.exact"),
    _rule("given_name.canonical", "street_address.number", "postcode.exact"),
    _rule("family_name.phonetic", "street_address.number", "postcode.exact"),
    _rule("street_address.number", "postcode.exact", broad=True),
    _rule("given_name.phonetic", "postcode.exact", broad=True),
    _rule("family_name.phonetic", "postcode.exact", broad=True),
)

_MIX = np.uint64(0x9E3779B97F4A7C15)


def rule_keys(table: EncodedTable, rule: BlockingRule) -> tuple[I64, I64]:
    """Return (row index, combined key) for every record that has all the rule's tokens."""
    if rule.unordered:
        return _unordered_keys(table, rule)
    rows = np.arange(len(table), dtype=np.int64)
    keys = np.zeros(len(table), dtype=np.uint64)
    for position, name in enumerate(rule.tokens):
        if name in MULTI_TOKENS:
            multi = table.multi.get(name)
            if multi is None:
                return rows[:0], rows[:0]
            values = multi[rows].reshape(-1)
            rows = np.repeat(rows, multi.shape[1])
            keys = np.repeat(keys, multi.shape[1])
        else:
            values = table.token(name)[rows]
        keep = values != 0
        rows, keys, values = rows[keep], keys[keep], values[keep]
        with np.errstate(over="ignore"):
            keys = (keys * _MIX) ^ values.view(np.uint64) ^ np.uint64(position + 1)
    return rows, keys.view(np.int64)


#: Tokens that split a hot block ("John Smith" in a big county) into smaller ones.
_REFINE: tuple[str, ...] = ("birth_date.year", "postcode.exact")


def _refine_hot_blocks(
    table: EncodedTable, rows: I64, keys: I64, max_block: int
) -> tuple[I64, I64]:
    """Re-key members of blocks larger than ``max_block`` with extra tokens.

    Dropping a hot block would lose every true pair of the most common names;
    refining it by birth year (then postcode) keeps the pairs that also agree on
    that, at a fraction of the quadratic cost.
    """
    for depth, token in enumerate(_REFINE):
        _, inverse, sizes = np.unique(keys, return_inverse=True, return_counts=True)
        hot = sizes[inverse] > max_block
        if not hot.any():
            break
        extra = table.token(token)[rows[hot]]
        present = extra != 0
        with np.errstate(over="ignore"):
            refined = (
                (keys[hot][present].view(np.uint64) * _MIX)
                ^ extra[present].view(np.uint64)
                ^ np.uint64(0xA5 + depth)
            )
        rows = np.concatenate([rows[~hot], rows[hot][present]])
        keys = np.concatenate([keys[~hot], refined.view(np.int64)])
    return rows, keys


def _unordered_keys(table: EncodedTable, rule: BlockingRule) -> tuple[I64, I64]:
    columns = [table.token(name) for name in rule.tokens]
    present = np.logical_and.reduce([col != 0 for col in columns])
    stacked = np.sort(np.stack([col[present] for col in columns], axis=1), axis=1)
    keys = np.zeros(len(stacked), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position in range(stacked.shape[1]):
            keys = (keys * _MIX) ^ stacked[:, position].view(np.uint64) ^ np.uint64(position + 1)
    return np.flatnonzero(present).astype(np.int64), keys.view(np.int64)


def _pairs_in_blocks(rows: I64, keys: I64, max_block: int) -> I64:
    """All pairs of rows within groups of equal keys, as an ``(m, 2)`` array."""
    if len(rows) < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    keys, rows = keys[order], rows[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    ok = (sizes >= 2) & (sizes <= max_block)
    if not ok.any():
        return np.empty((0, 2), dtype=np.int64)
    # every member of a kept group pairs with the members after it in its group
    member = np.flatnonzero(np.repeat(ok, sizes))
    group_end = np.repeat(starts + sizes, sizes)[member]
    after = group_end - member - 1
    left = np.repeat(member, after)
    offsets = np.arange(len(left)) - np.repeat(np.cumsum(after) - after, after)
    right = left + 1 + offsets
    return np.stack([rows[left], rows[right]], axis=1)


def candidate_pairs(
    table: EncodedTable,
    rules: tuple[BlockingRule, ...] = DEFAULT_RULES,
    *,
    max_block: int = 100,
) -> tuple[I64, I64, dict[str, int]]:
    """Union of the pairs produced by every rule.

    Args:
        table: The encoded records.
        rules: Blocking passes.
        max_block: Blocks larger than this are refined, then skipped (hot spots).

    Returns:
        ``(left, right, counts)``: row indices with ``left < right``, unique, and the
        number of pairs each rule produced before the union.
    """
    n = len(table)
    codes: list[I64] = []
    counts: dict[str, int] = {}
    for rule in rules:
        rows, keys = rule_keys(table, rule)
        if rule.broad:
            pairs = _pairs_in_blocks(rows, keys, min(max_block, _BROAD_MAX_BLOCK))
        else:
            pairs = _pairs_in_blocks(*_refine_hot_blocks(table, rows, keys, max_block), max_block)
        lo = np.minimum(pairs[:, 0], pairs[:, 1])
        hi = np.maximum(pairs[:, 0], pairs[:, 1])
        keep = lo != hi
        counts[rule.name] = int(keep.sum())
        codes.append(lo[keep] * n + hi[keep])
    unique = _sorted_unique(np.concatenate(codes)) if codes else np.empty(0, dtype=np.int64)
    return unique // n, unique % n, counts


def _sorted_unique(values: I64) -> I64:
    """``np.unique`` by sorting in place (NumPy 2's hash-based unique is far slower
    on tens of millions of pair codes)."""
    values.sort()
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]
