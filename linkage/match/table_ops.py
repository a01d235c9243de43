"""Row-wise operations on encoded tables: gather rows, concatenate, check compatibility.

Incremental linking scores new records against stored ones by putting both in
one table (new rows first, then the stored rows they touch), so that
:func:`~linkage.match.comparisons.comparison_levels` runs unchanged on pairs across them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from linkage.errors import EncodedDataError, IncompatibleEncodingError
from linkage.table import EncodedTable

__all__ = ["check_compatible", "concat_tables", "take_rows"]

I64 = npt.NDArray[np.int64]
Column = npt.NDArray[Any]


def take_rows(table: EncodedTable, rows: I64) -> EncodedTable:
    """A new table of the given rows of ``table`` (columns gathered)."""
    keys = [table.agencies[r] for r in rows.tolist()], [table.record_ids[r] for r in rows.tolist()]
    out = EncodedTable(table.schema_version, table.key_id, *keys)
    out.tokens = {name: col[rows] for name, col in table.tokens.items()}
    out.multi = {name: col[rows] for name, col in table.multi.items()}
    out.filters = {name: col[rows] for name, col in table.filters.items()}
    out.popcounts = {name: col[rows] for name, col in table.popcounts.items()}
    return out


def concat_tables(first: EncodedTable, second: EncodedTable) -> EncodedTable:
    """Rows of ``first`` then rows of ``second``; a column missing on one side is 0."""
    check_compatible(first, second)
    out = EncodedTable(
        first.schema_version,
        first.key_id,
        first.agencies + second.agencies,
        first.record_ids + second.record_ids,
    )
    for kind in ("tokens", "multi", "filters", "popcounts"):
        a, b = getattr(first, kind), getattr(second, kind)
        merged = getattr(out, kind)
        for name in a.keys() | b.keys():
            merged[name] = np.concatenate([_or_zeros(a, name, b, len(first)),
                                           _or_zeros(b, name, a, len(second))])  # fmt: skip
    return out


def _or_zeros(columns: dict[str, Column], name: str, other: dict[str, Column], n: int) -> Column:
    col = columns.get(name)
    if col is not None:
        return col
    like = other[name]
    return np.zeros((n, *like.shape[1:]), dtype=like.dtype)


def check_compatible(a: EncodedTable, b: EncodedTable) -> None:
    """Refuse to mix encodings of different schema versions, keys or filter sizes."""
    if (a.schema_version, a.key_id) != (b.schema_version, b.key_id):
        raise IncompatibleEncodingError(
            f"encodings made with {a.schema_version}/{a.key_id} and "
            f"{b.schema_version}/{b.key_id} cannot be linked together"
        )
    for name in a.filters.keys() & b.filters.keys():
        if a.filters[name].shape[1] != b.filters[name].shape[1]:
            raise EncodedDataError(f"filter {name!r} has different lengths in the two tables")
