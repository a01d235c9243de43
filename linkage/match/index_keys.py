"""Blocking keys of the link index: salted per-rule keys in sorted runs.

:class:`~linkage.match.index.LinkIndex` keeps one entry per (row, rule, key) in two
parallel arrays sorted by key (a :class:`SortedKeys` *run*). Keys of different
rules are salted apart, so one ``searchsorted`` per run answers every rule of
every query record at once; :func:`expand_ranges` turns the ``[lo, hi)`` block
of each query key into the flat list of positions it covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from linkage.match.blocking import _MIX, _REFINE, BlockingRule, rule_keys
from linkage.table import MULTI_TOKENS, EncodedTable

__all__ = ["SortedKeys", "expand_ranges", "refine_hot_blocks", "table_keys"]

I64 = npt.NDArray[np.int64]
_SALT = np.uint64(0xD6E8FEB86659FD93)


def table_keys(table: EncodedTable, rules: Sequence[BlockingRule]) -> tuple[I64, I64, I64]:
    """``(row, salted key, rule index)`` of every blocking key of every row."""
    if len(table) == 1:
        return _one_row_keys(table, rules)
    rows, keys, which = [], [], []
    for r, rule in enumerate(rules):
        rule_rows, rule_key = rule_keys(table, rule)
        with np.errstate(over="ignore"):
            salt = _SALT * np.uint64(r + 1)
        rows.append(rule_rows)
        keys.append((rule_key.view(np.uint64) ^ salt).view(np.int64))
        which.append(np.full(len(rule_rows), r, dtype=np.int64))
    empty = np.empty(0, dtype=np.int64)
    return tuple(np.concatenate(part) if part else empty for part in (rows, keys, which))  # type: ignore[return-value]


_M64 = (1 << 64) - 1
_MIX_INT = int(_MIX)


def _mix(key: int, value: int, position: int) -> int:
    """One step of :func:`linkage.match.blocking.rule_keys`' key mixing, on Python ints."""
    return ((key * _MIX_INT) & _M64) ^ (value & _M64) ^ (position + 1)


def _one_rule_keys(table: EncodedTable, rule: BlockingRule) -> list[int]:
    """The unsigned keys ``rule_keys`` gives row 0, in the same order."""
    if rule.unordered:
        values = sorted(int(table.token(name)[0]) for name in rule.tokens)  # signed order
        if 0 in values:
            return []
        key = 0
        for position, value in enumerate(values):
            key = _mix(key, value, position)
        return [key]
    keys = [0]
    for position, name in enumerate(rule.tokens):
        if name in MULTI_TOKENS:
            multi = table.multi.get(name)
            if multi is None:
                return []
            values = [int(v) for v in multi[0]]
        else:
            values = [int(table.token(name)[0])]
        keys = [_mix(k, v, position) for k in keys for v in values if v != 0]
    return keys


def _one_row_keys(table: EncodedTable, rules: Sequence[BlockingRule]) -> tuple[I64, I64, I64]:
    """:func:`table_keys` of a one-row table (a resolve query) without NumPy per rule.

    A query runs sixteen rules over one row; array set-up would cost more than
    the arithmetic, so the same mixing is done on Python integers.
    """
    keys: list[int] = []
    which: list[int] = []
    salt = int(_SALT)
    for r, rule in enumerate(rules):
        rule_salt = (salt * (r + 1)) & _M64
        for key in _one_rule_keys(table, rule):
            keys.append(key ^ rule_salt)
            which.append(r)
    unsigned = np.array(keys, dtype=np.uint64)
    return (
        np.zeros(len(keys), dtype=np.int64),
        unsigned.view(np.int64),
        np.array(which, dtype=np.int64),
    )


@dataclass
class SortedKeys:
    """Blocking keys and their rows, sorted by key (one *run* of the index)."""

    keys: I64
    rows: npt.NDArray[np.int32]

    @classmethod
    def build(cls, keys: I64, rows: I64) -> SortedKeys:
        """Sort ``(key, row)`` entries by key."""
        order = np.argsort(keys)
        return cls(keys[order], rows[order].astype(np.int32))

    def __len__(self) -> int:
        return len(self.keys)

    def merged(self, other: SortedKeys) -> SortedKeys:
        """Both runs in one, by inserting ``other`` (sorted) at its positions: O(n)."""
        at = np.searchsorted(self.keys, other.keys)
        return SortedKeys(
            np.insert(self.keys, at, other.keys), np.insert(self.rows, at, other.rows)
        )

    def without(self, alive: npt.NDArray[np.bool_]) -> SortedKeys:
        """The entries whose row is still alive."""
        keep = alive[self.rows]
        return SortedKeys(self.keys[keep], self.rows[keep])

    def ranges(self, keys: I64) -> tuple[I64, I64]:
        """``[lo, hi)`` of each key's block.

        The keys are looked up in sorted order: each binary search then starts
        where the previous one ended, which keeps a large run's pages in cache.
        """
        if len(keys) < 64:
            return np.searchsorted(self.keys, keys, "left"), np.searchsorted(
                self.keys, keys, "right"
            )
        order = np.argsort(keys)
        ordered = keys[order]
        lo, hi = np.empty_like(keys), np.empty_like(keys)
        lo[order] = np.searchsorted(self.keys, ordered, "left")
        hi[order] = np.searchsorted(self.keys, ordered, "right")
        return lo, hi


def expand_ranges(lo: I64, hi: I64) -> tuple[I64, I64]:
    """``(which range, position)`` for every position of every range ``[lo, hi)``."""
    lengths = hi - lo
    which = np.repeat(np.arange(len(lo), dtype=np.int64), lengths)
    starts = np.repeat(lo - (np.cumsum(lengths) - lengths), lengths)
    return which, np.arange(len(which), dtype=np.int64) + starts


def refine_hot_blocks(
    table: EncodedTable,
    store: EncodedTable,
    alive: npt.NDArray[np.bool_],
    blocks: Sequence[tuple[npt.NDArray[np.int32], I64, I64]],
    query: I64,
    limit: I64,
) -> tuple[I64, I64]:
    """``(query row, stored row)`` pairs of hot blocks, narrowed like the batch does.

    Mirrors :func:`linkage.match.blocking._refine_hot_blocks`: the stored members of
    each hot block (``rows[lo:hi]`` of each run in ``blocks``, one block per
    query key) are narrowed to those sharing the query record's birth year, then
    its postcode; a block still larger than its ``limit`` after a refinement is
    refined again, and dropped after the last one.
    """
    picks = [(rows, expand_ranges(lo, hi)) for rows, lo, hi in blocks]
    which = np.concatenate([w for _, (w, _) in picks])
    stored = np.concatenate([rows[p] for rows, (_, p) in picks]).astype(np.int64)
    out_new, out_stored = [], []
    for token in _REFINE:
        value = table.token(token)[query[which]]
        keep = (value != 0) & (store.token(token)[stored] == value) & alive[stored]
        which, stored = which[keep], stored[keep]
        still_hot = np.bincount(which, minlength=len(query)) + 1 > limit
        done = ~still_hot[which]
        out_new.append(query[which[done]])
        out_stored.append(stored[done])
        which, stored = which[~done], stored[~done]
    return np.concatenate(out_new), np.concatenate(out_stored)
