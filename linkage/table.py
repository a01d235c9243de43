"""Columnar, in-memory view of encoded records for vectorised matching.

The hub loads every encoded record into NumPy arrays: one ``int64`` column per
single-valued token (0 = missing), one ``(n, 3)`` ``int64`` array per list-valued
token (nickname canonical forms, surname parts), and one ``(n, words)`` ``uint64``
array of packed bits per Bloom filter, with its popcount. Comparisons then work on
whole arrays of candidate pairs at once.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import orjson

from linkage.errors import EncodedDataError, IncompatibleEncodingError

if TYPE_CHECKING:
    from linkage.records import EncodedRecord

__all__ = [
    "MULTI_TOKENS",
    "MULTI_WIDTH",
    "EncodedTable",
    "load_encoded_files",
    "table_from_lines",
    "table_from_records",
]

MULTI_TOKENS = frozenset(
    {
        "given_name.canonical",
        "family_name.parts",
        "birth_date.year_near",
        "birth_date.generation",
        "ssn.serial_pair",
    }
)
MULTI_WIDTH = 3
_CHUNK = 50_000

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]


@dataclass
class EncodedTable:
    """Encoded records as arrays; row ``i`` is record ``(agencies[i], record_ids[i])``."""

    schema_version: str
    key_id: str
    agencies: list[str]
    record_ids: list[str]
    tokens: dict[str, I64] = field(default_factory=dict)
    multi: dict[str, I64] = field(default_factory=dict)
    filters: dict[str, U64] = field(default_factory=dict)
    popcounts: dict[str, npt.NDArray[np.int32]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.record_ids)

    def token(self, name: str) -> I64:
        """Token column ``name``; all-missing if no record has it."""
        col = self.tokens.get(name)
        return col if col is not None else np.zeros(len(self), dtype=np.int64)

    def keys(self) -> list[tuple[str, str]]:
        """``(agency, record_id)`` of every row."""
        return list(zip(self.agencies, self.record_ids, strict=True))


class _Pending:
    """The current chunk of records: their token and filter objects and locations."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.where: list[str] = []
        self.tokens: list[dict[str, Any]] = []
        self.filters: list[dict[str, Any]] = []


class _Builder:
    """Parses lines and flushes them in chunks into growing NumPy columns.

    Holding every parsed value in Python lists until the end would cost several
    gigabytes for a million records; flushing each chunk of ``_CHUNK`` records into
    preallocated arrays keeps the peak close to the size of the arrays themselves.
    """

    def __init__(self, expected_rows: int = 0) -> None:
        self.version: tuple[str, str] | None = None
        self.agencies: list[str] = []
        self.record_ids: list[str] = []
        self.seen: set[tuple[str, str]] = set()
        self.capacity = expected_rows  # an exact guess avoids growing (and copying) columns
        self.tokens: dict[str, I64] = {}
        self.multi: dict[str, I64] = {}
        self.filters: dict[str, U64] = {}
        self.pending = _Pending()

    def add(self, obj: object, where: str) -> None:
        if not isinstance(obj, dict):
            raise EncodedDataError(f"{where}: expected a JSON object")
        agency, rid = obj.get("agency"), obj.get("record_id")
        version = (obj.get("schema_version"), obj.get("key_id"))
        if not all(isinstance(v, str) and v for v in (agency, rid, *version)):
            raise EncodedDataError(f"{where}: missing schema_version, key_id, agency or record_id")
        self._check_version(version, where)  # type: ignore[arg-type]
        key = (str(agency), str(rid))
        if key in self.seen:
            raise EncodedDataError(f"{where}: record {rid!r} of {agency!r} appears twice")
        self.seen.add(key)
        row = len(self.record_ids)
        self.agencies.append(key[0])
        self.record_ids.append(key[1])
        tokens, filters = obj.get("tokens"), obj.get("filters")
        if not isinstance(tokens, dict) or not isinstance(filters, dict):
            raise EncodedDataError(f"{where}: 'tokens' and 'filters' must be objects")
        pending = self.pending
        pending.rows.append(row)
        pending.where.append(where)
        pending.tokens.append(tokens)
        pending.filters.append(filters)
        if len(pending.rows) >= _CHUNK:
            self._flush()

    def _check_version(self, version: tuple[str, str], where: str) -> None:
        if self.version is None:
            self.version = version
        elif version != self.version:
            what = "schema versions" if version[0] != self.version[0] else "linkage keys (key ids)"
            raise IncompatibleEncodingError(
                f"{where}: encodings made with different {what} "
                f"({'/'.join(self.version)} vs {'/'.join(version)}); "
                "re-encode with one schema and key"
            )

    def _grow(self, needed: int) -> None:
        if needed <= self.capacity:
            return
        capacity = max(needed, 2 * self.capacity, 1024)
        for columns in (self.tokens, self.multi, self.filters):
            for name, old in columns.items():
                grown = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
                grown[: len(old)] = old
                columns[name] = grown
        self.capacity = capacity

    def _column(
        self, columns: dict[str, Any], name: str, width: tuple[int, ...], dtype: Any
    ) -> Any:
        if name not in columns:
            columns[name] = np.zeros((self.capacity, *width), dtype=dtype)
        return columns[name]

    def _flush(self) -> None:
        """Move the pending chunk into the columns, one column at a time.

        Values are gathered per column with comprehensions and parsed with single
        C calls (hex, base64); only when that fails is the chunk scanned record by
        record, to name the offending line.
        """
        pending, self.pending = self.pending, _Pending()
        if not pending.rows:
            return
        self._grow(len(self.record_ids))
        try:
            self._flush_tokens(pending)
            self._flush_filters(pending)
        except (EncodedDataError, TypeError, ValueError, binascii.Error) as exc:
            raise _locate_bad_record(pending) from exc

    def _flush_tokens(self, pending: _Pending) -> None:
        names: set[str] = set().union(*pending.tokens)
        for name in names:
            values = [t.get(name) for t in pending.tokens]
            rows = [r for r, v in zip(pending.rows, values, strict=True) if v is not None]
            present = [v for v in values if v is not None]
            if name in MULTI_TOKENS:
                flat = [x for v in present for x in (v[:MULTI_WIDTH] + _PAD)[:MULTI_WIDTH]]
                arr = self._column(self.multi, name, (MULTI_WIDTH,), np.int64)
                arr[rows] = _hex_tokens(name, flat).reshape(-1, MULTI_WIDTH)
            else:
                col = self._column(self.tokens, name, (), np.int64)
                col[rows] = _hex_tokens(name, present)

    def _flush_filters(self, pending: _Pending) -> None:
        names: set[str] = set().union(*pending.filters)
        for name in names:
            values = [f.get(name) for f in pending.filters]
            rows = [r for r, v in zip(pending.rows, values, strict=True) if v is not None]
            packed = _decode_filters(name, [v for v in values if v is not None])
            arr = self._column(self.filters, name, (packed.shape[1],), np.uint64)
            if arr.shape[1] != packed.shape[1]:
                raise EncodedDataError(f"filter {name!r} changes length between records")
            arr[rows] = packed

    def build(self) -> EncodedTable:
        self._flush()
        if self.version is None:
            raise EncodedDataError("no encoded records to link")
        n = len(self.record_ids)
        table = EncodedTable(self.version[0], self.version[1], self.agencies, self.record_ids)
        table.tokens = {name: col[:n] for name, col in self.tokens.items()}
        table.multi = {name: arr[:n] for name, arr in self.multi.items()}
        for name, arr in self.filters.items():
            table.filters[name] = arr[:n]
            table.popcounts[name] = np.bitwise_count(arr[:n]).sum(axis=1, dtype=np.int32)
        return table


_PAD = ["0" * 16] * MULTI_WIDTH


def _hex_tokens(name: str, values: list[str]) -> I64:
    """Parse 16-hex-digit tokens in one C call (``int(v, 16)`` per value is slow)."""
    if set(map(len, values)) != {16}:
        raise EncodedDataError(f"token {name!r} is not 16 hex digits")
    raw = bytes.fromhex("".join(values))
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).view(np.int64)


def _record_problem(tokens: dict[str, Any], filters: dict[str, Any]) -> str | None:
    """What is wrong with one record's tokens or filters (slow path, errors only)."""
    for name, value in tokens.items():
        if name in MULTI_TOKENS and not isinstance(value, list):
            return f"malformed token {name!r} (expected a list)"
        for v in value if name in MULTI_TOKENS else [value]:
            if not isinstance(v, str) or len(v) != 16 or v.strip("0123456789abcdefABCDEF"):
                return f"malformed token {name!r}"
    for name, value in filters.items():
        try:
            binascii.a2b_base64(value, strict_mode=True)
        except (TypeError, ValueError, binascii.Error):
            return f"filter {name!r} is not valid base64"
    return None


def _locate_bad_record(pending: _Pending) -> EncodedDataError:
    for where, tokens, filters in zip(pending.where, pending.tokens, pending.filters, strict=True):
        problem = _record_problem(tokens, filters)
        if problem:
            return EncodedDataError(f"{where}: {problem}")
    return EncodedDataError(
        f"{pending.where[0]}..{pending.where[-1]}: filters of one field differ in length"
    )


def _decode_filters(name: str, values: list[str]) -> U64:
    """Decode equally long base64 filters into a ``(len(values), words)`` array."""
    try:
        raw = b"".join([binascii.a2b_base64(v, strict_mode=True) for v in values])
    except (ValueError, binascii.Error) as exc:
        raise EncodedDataError(f"filter {name!r} holds invalid base64") from exc
    n_bytes = len(raw) // len(values)
    if n_bytes % 8 or n_bytes * len(values) != len(raw):
        raise EncodedDataError(f"filter {name!r} length is not a multiple of 64 bits")
    return np.frombuffer(raw, dtype="<u8").reshape(len(values), n_bytes // 8).astype(np.uint64)


def table_from_lines(lines: Iterable[bytes | str], *, source: str = "<input>") -> EncodedTable:
    """Build a table from JSON lines (e.g. an in-memory encoding)."""
    builder = _Builder()
    for number, line in enumerate(lines, start=1):
        if line.strip():
            builder.add(_loads(line, f"{source}:{number}"), f"{source}:{number}")
    return builder.build()


def table_from_records(
    records: Iterable[EncodedRecord], *, source: str = "<input>"
) -> EncodedTable:
    """Build a table from parsed records, without a round trip through JSON."""
    builder = _Builder()
    for number, r in enumerate(records, start=1):
        obj = {
            "schema_version": r.schema_version, "key_id": r.key_id, "agency": r.agency,
            "record_id": r.record_id, "tokens": r.tokens, "filters": r.filters,
        }  # fmt: skip
        builder.add(obj, f"{source}:{number}")
    return builder.build()


def load_encoded_files(paths: Sequence[Path]) -> EncodedTable:
    """Load and concatenate encoded JSON Lines files, refusing mixed schemas/keys."""
    builder = _Builder(sum(_count_lines(path) for path in paths))
    for path in paths:
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise EncodedDataError(f"cannot open {path}: {exc.strerror}") from exc
        with handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    builder.add(_loads(line, f"{path}:{number}"), f"{path}:{number}")
    return builder.build()


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    except OSError as exc:
        raise EncodedDataError(f"cannot open {path}: {exc.strerror}") from exc


def _loads(line: bytes | str, where: str) -> object:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise EncodedDataError(f"{where}: not valid JSON") from exc
