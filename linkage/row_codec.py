"""Compact binary rows: how the hub stores one encoded record in its database.

An encoded record as JSON is ~1.6 KB of hex and base64; the hub needs to load a
million of them at start-up in seconds. A *row blob* holds the same tokens and
filters as raw little-endian 64-bit words behind a small header::

    magic "CWR" | format 2 (u8) | token mask (u64) | multi mask (u8)
    | filter mask (u16) | words per present filter (u16 each) | payload

The masks name which columns of the frozen lists below are stored (a missing
value is stored as 0, as in :class:`~linkage.table.EncodedTable`), so every row
of one table — and of one schema, in practice — has the same header and length.
Decoding groups blobs by header and reads each group with one
``np.frombuffer`` into a structured dtype: no per-record parsing.

The column lists are part of the format: adding a token kind to the schema needs a
new format number (a test checks that the lists cover :data:`FIELD_TOKENS`).
Format 2 appended the list tokens of schema ``canonical/2`` to :data:`BLOB_MULTI`
(bits 2–4); masks of format 1 name the same columns, so both are read.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from linkage.errors import EncodedDataError
from linkage.schema import IDENTIFIER_FIELDS
from linkage.table import MULTI_WIDTH, EncodedTable

__all__ = ["BLOB_FILTERS", "BLOB_MULTI", "BLOB_TOKENS", "row_blobs", "table_from_blobs"]

_MAGIC = b"CWR"
_FORMAT = 2
_READABLE = frozenset({1, 2})  # format 2 only appended columns
_FIXED = struct.Struct("<3sBQBH")  # magic, format, token mask, multi mask, filter mask

#: Single-valued token columns of format 1, in mask-bit order (do not reorder).
BLOB_TOKENS: tuple[str, ...] = (
    "given_name.exact", "given_name.phonetic", "given_name.initial",
    "middle_name.exact", "middle_name.initial",
    "family_name.exact", "family_name.phonetic", "family_name.initial",
    "name.suffix",
    "birth_date.exact", "birth_date.year", "birth_date.swapped", "birth_date.monthday",
    "sex.exact", "street_address.exact", "street_address.number", "city.exact",
    "postcode.exact", "phone.exact", "ssn.exact",
)  # fmt: skip
#: List-valued token columns (``MULTI_WIDTH`` values each); format 2 appended three.
BLOB_MULTI: tuple[str, ...] = (
    "given_name.canonical", "family_name.parts",
    "birth_date.year_near", "birth_date.generation", "ssn.serial_pair",
)  # fmt: skip
#: Bloom-filter columns of format 1.
BLOB_FILTERS: tuple[str, ...] = IDENTIFIER_FIELDS


def _mask(present: Sequence[str], universe: tuple[str, ...], what: str) -> int:
    unknown = sorted(set(present) - set(universe))
    if unknown:
        raise EncodedDataError(f"row blob format {_FORMAT} cannot store {what} {unknown}")
    return sum(1 << i for i, name in enumerate(universe) if name in present)


def _names(mask: int, universe: tuple[str, ...]) -> list[str]:
    return [name for i, name in enumerate(universe) if mask >> i & 1]


def _header(table: EncodedTable) -> bytes:
    filters = _names(_mask(list(table.filters), BLOB_FILTERS, "filters"), BLOB_FILTERS)
    fixed = _FIXED.pack(
        _MAGIC,
        _FORMAT,
        _mask(list(table.tokens), BLOB_TOKENS, "tokens"),
        _mask(list(table.multi), BLOB_MULTI, "list tokens"),
        _mask(filters, BLOB_FILTERS, "filters"),
    )
    widths = [table.filters[name].shape[1] for name in filters]
    return fixed + struct.pack(f"<{len(widths)}H", *widths)


def _payload_dtype(
    tokens: list[str], multi: list[str], filters: list[str], widths: Sequence[int], head: int
) -> np.dtype[np.void]:
    fields: list[tuple[str, str, tuple[int, ...]]] = [("_header", f"V{head}", ())]
    fields += [(f"t:{name}", "<i8", ()) for name in tokens]
    fields += [(f"m:{name}", "<i8", (MULTI_WIDTH,)) for name in multi]
    fields += [(f"f:{name}", "<u8", (w,)) for name, w in zip(filters, widths, strict=True)]
    return np.dtype(fields)


def row_blobs(table: EncodedTable) -> list[bytes]:
    """One compact blob per row of ``table`` (tokens, list tokens and filters).

    Agency, record id, schema version and key id are not inside: the database
    stores them as columns, and :func:`table_from_blobs` takes them back.
    """
    head = _header(table)
    tokens = [n for n in BLOB_TOKENS if n in table.tokens]
    multi = [n for n in BLOB_MULTI if n in table.multi]
    filters = [n for n in BLOB_FILTERS if n in table.filters]
    widths = [table.filters[name].shape[1] for name in filters]
    rows = np.zeros(len(table), dtype=_payload_dtype(tokens, multi, filters, widths, len(head)))
    rows["_header"] = np.frombuffer(head, dtype=f"V{len(head)}")[0]
    for name in tokens:
        rows[f"t:{name}"] = table.tokens[name]
    for name in multi:
        rows[f"m:{name}"] = table.multi[name]
    for name in filters:
        rows[f"f:{name}"] = table.filters[name]
    raw, size = rows.tobytes(), rows.dtype.itemsize
    return [raw[i : i + size] for i in range(0, len(raw), size)]


def _parse_header(blob: bytes) -> tuple[int, list[str], list[str], list[str], tuple[int, ...]]:
    """Header length, token, list-token and filter names, and filter widths."""
    if len(blob) < _FIXED.size:
        raise EncodedDataError("row blob is truncated (no header)")
    magic, version, token_mask, multi_mask, filter_mask = _FIXED.unpack_from(blob)
    if magic != _MAGIC:
        raise EncodedDataError("not a crosswalk row blob (bad magic)")
    if version not in _READABLE:
        raise EncodedDataError(f"unsupported row blob format {version} (expected {_FORMAT})")
    filters = _names(filter_mask, BLOB_FILTERS)
    head = _FIXED.size + 2 * len(filters)
    if len(blob) < head or token_mask >> len(BLOB_TOKENS) or multi_mask >> len(BLOB_MULTI):
        raise EncodedDataError("row blob header is malformed")
    if filter_mask >> len(BLOB_FILTERS):
        raise EncodedDataError("row blob header is malformed")
    widths = struct.unpack_from(f"<{len(filters)}H", blob, _FIXED.size)
    tokens, multi = _names(token_mask, BLOB_TOKENS), _names(multi_mask, BLOB_MULTI)
    return head, tokens, multi, filters, widths


def _group_by_header(blobs: Sequence[bytes]) -> dict[bytes, list[int]]:
    """Row indices per distinct header (usually one group: one schema, one layout).

    Each round takes the header of the first blob not yet grouped and collects
    every blob that starts with it, so the common case is one C-speed pass.
    """
    groups: dict[bytes, list[int]] = {}
    remaining = list(range(len(blobs)))
    while remaining:
        first = blobs[remaining[0]]
        head = first[: _parse_header(first)[0]]
        groups[head] = [i for i in remaining if blobs[i].startswith(head)]
        remaining = [i for i in remaining if not blobs[i].startswith(head)]
    return groups


def table_from_blobs(
    schema_version: str,
    key_id: str,
    agencies: Sequence[str],
    record_ids: Sequence[str],
    blobs: Sequence[bytes],
) -> EncodedTable:
    """Decode blobs made by :func:`row_blobs` into one table, row ``i`` = blob ``i``.

    Raises:
        EncodedDataError: on a blob that is not a row blob of a known format, is
            truncated or padded, or holds filters of one field in different lengths.
    """
    blobs = [
        blob if isinstance(blob, bytes) else _as_bytes(blob, i) for i, blob in enumerate(blobs)
    ]
    n = len(blobs)
    if not len(agencies) == len(record_ids) == n:
        raise EncodedDataError("row blobs, agencies and record ids differ in number")
    table = EncodedTable(schema_version, key_id, list(agencies), list(record_ids))
    for head, rows in _group_by_header(blobs).items():
        _, tokens, multi, filters, widths = _parse_header(head)
        dtype = _payload_dtype(tokens, multi, filters, widths, len(head))
        chunk = [blobs[i] for i in rows]
        if any(len(blob) != dtype.itemsize for blob in chunk):
            raise EncodedDataError("row blob length does not match its header")
        data = np.frombuffer(b"".join(chunk), dtype=dtype)
        # one group of every row (the usual case) needs no fancy-indexed writes
        index: slice | npt.NDArray[np.int64] = (
            slice(None) if len(rows) == n else np.asarray(rows, dtype=np.int64)
        )
        for name in tokens:
            _column(table.tokens, name, n, ())[index] = data[f"t:{name}"]
        for name in multi:
            _column(table.multi, name, n, (MULTI_WIDTH,))[index] = data[f"m:{name}"]
        for name, width in zip(filters, widths, strict=True):
            column = table.filters.setdefault(name, np.zeros((n, width), dtype=np.uint64))
            if column.shape[1] != width:
                raise EncodedDataError(f"filter {name!r} changes length between row blobs")
            column[index] = data[f"f:{name}"]
    for name, bits in table.filters.items():
        table.popcounts[name] = np.bitwise_count(bits).sum(axis=1, dtype=np.int32)
    return table


def _column(
    columns: dict[str, npt.NDArray[np.int64]], name: str, n: int, width: tuple[int, ...]
) -> npt.NDArray[np.int64]:
    if name not in columns:
        columns[name] = np.zeros((n, *width), dtype=np.int64)
    return columns[name]


def _as_bytes(blob: object, i: int) -> bytes:
    """Database drivers may hand back ``memoryview`` or ``bytearray``."""
    if isinstance(blob, bytearray | memoryview):
        return bytes(blob)
    raise EncodedDataError(f"row blob {i} is not bytes")
