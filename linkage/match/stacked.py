"""Scoring tables of new rows and stored rows, without copying the stored filters.

Linking scores new records against stored ones with
:func:`~linkage.match.comparisons.comparison_levels`, which works on pairs of row
indices into *one* table. :func:`stacked` builds that table: the ``b`` new rows
first, then the stored rows a batch touches. Token columns (8 bytes a row, read
many times by the comparisons) are copied into compact columns, which keeps the
repeated gathers in cache; Bloom filters (~700 bytes a row, read once per
field and only for pairs whose exact tokens differ) stay where they are and
each :class:`StackedColumn` gathers just the rows a comparison asks for.

Comparisons index filter columns only with integer arrays (``col[rows]``), which
is all a stacked column supports; ``tests/linkage/test_incremental.py`` checks
that scores over a stacked table equal scores over copied rows.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import numpy.typing as npt

from linkage.match.table_ops import check_compatible
from linkage.table import EncodedTable

__all__ = ["StackedColumn", "stacked"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Column = npt.NDArray[Any]


class StackedColumn:
    """Rows of ``first``, then rows ``rows`` of ``second`` (a missing side reads as 0)."""

    __slots__ = ("dtype", "first", "rows", "second", "shape", "split")

    def __init__(
        self, first: Column | None, second: Column | None, rows: I64, split: int, like: Column
    ) -> None:
        self.first, self.second, self.rows, self.split = first, second, rows, split
        self.dtype = like.dtype
        self.shape = (split + len(rows), *like.shape[1:])

    def __len__(self) -> int:
        return self.split + len(self.rows)

    def _side(self, col: Column | None, rows: I64) -> Column:
        if col is None:
            return np.zeros((len(rows), *self.shape[1:]), dtype=self.dtype)
        return col[rows]

    def __getitem__(self, rows: I64) -> Column:
        if rows.dtype.kind not in "iu":
            raise TypeError("a stacked column is indexed by row numbers only")
        split = self.split
        if not len(rows) or rows.max() < split:
            return self._side(self.first, rows)
        if rows.min() >= split:
            return self._side(self.second, self.rows[rows - split])
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
        low = rows < split
        out[low] = self._side(self.first, rows[low])
        out[~low] = self._side(self.second, self.rows[rows[~low] - split])
        return out


class _ScoringTable(EncodedTable):
    """A table that is only scored: it has a length but no record keys."""

    size: int = 0

    def __len__(self) -> int:
        return self.size

    def keys(self) -> list[tuple[str, str]]:
        raise TypeError("a scoring table has no record keys")


def _compact(first: Column | None, second: Column | None, rows: I64, n_first: int) -> Column:
    like = first if first is not None else second
    assert like is not None  # noqa: S101 - one side has the column
    top = first if first is not None else np.zeros((n_first, *like.shape[1:]), like.dtype)
    bottom = (
        second[rows] if second is not None else np.zeros((len(rows), *like.shape[1:]), like.dtype)
    )
    return np.concatenate([top, bottom])


def stacked(first: EncodedTable, second: EncodedTable, rows: I64) -> EncodedTable:
    """``first``'s rows as ``0..b-1``, then rows ``rows`` of ``second`` as ``b, b+1, …``.

    The result has no record keys and supports what scoring needs: ``token``,
    ``len`` and the column dicts indexed by integer arrays. It is valid as long
    as ``second``'s filter columns are not replaced.
    """
    check_compatible(first, second)
    b = len(first)
    out = _ScoringTable(first.schema_version, first.key_id, [], [])
    out.size = b + len(rows)
    for kind in ("tokens", "multi", "popcounts"):
        a, c = getattr(first, kind), getattr(second, kind)
        compact = getattr(out, kind)
        for name in a.keys() | c.keys():
            compact[name] = _compact(a.get(name), c.get(name), rows, b)
    for name in first.filters.keys() | second.filters.keys():
        one, two = first.filters.get(name), second.filters.get(name)
        like = one if one is not None else two
        assert like is not None  # noqa: S101 - one side has the column
        out.filters[name] = cast(U64, StackedColumn(one, two, rows, b, like))
    return out
