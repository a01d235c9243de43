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

import numpy as np
import numpy.typing as npt
import orjson

from linkage.errors import EncodedDataError, IncompatibleEncodingError

__all__ = ["MULTI_TOKENS", "MULTI_WIDTH", "EncodedTable", "load_encoded_files", "table_from_lines"]

MULTI_TOKENS = frozenset({"given_name.canonical", "family_name.parts"})
MULTI_WIDTH = 3

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


class _Builder:
    """Accumulates parsed lines column by column."""

    def __init__(self) -> None:
        self.version: tuple[str, str] | None = None
        self.agencies: list[str] = []
        self.record_ids: list[str] = []
        self.tokens: dict[str, list[int]] = {}
        self.multi: dict[str, tuple[list[int], list[int]]] = {}
        self.filters: dict[str, tuple[list[int], list[str]]] = {}
        self.filter_len: dict[str, int] = {}
        self.seen: set[tuple[str, str]] = set()

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
        self._add_tokens(obj.get("tokens"), row, where)
        self._add_filters(obj.get("filters"), row, where)

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

    def _add_tokens(self, tokens: object, row: int, where: str) -> None:
        if not isinstance(tokens, dict):
            raise EncodedDataError(f"{where}: 'tokens' must be an object")
        try:
            for name, value in tokens.items():
                if name in MULTI_TOKENS:
                    vals = [_hex_int(v) for v in value[:MULTI_WIDTH]]
                    rows, flat = self.multi.setdefault(name, ([], []))
                    rows.append(row)
                    flat.extend(vals + [0] * (MULTI_WIDTH - len(vals)))
                else:
                    self.tokens.setdefault(name, []).extend((row, _hex_int(value)))
        except (TypeError, ValueError, AttributeError) as exc:
            raise EncodedDataError(f"{where}: malformed token") from exc

    def _add_filters(self, filters: object, row: int, where: str) -> None:
        if not isinstance(filters, dict):
            raise EncodedDataError(f"{where}: 'filters' must be an object")
        for name, value in filters.items():
            if not isinstance(value, str):
                raise EncodedDataError(f"{where}: filter {name!r} is not a base64 string")
            expected = self.filter_len.setdefault(name, len(value))
            if len(value) != expected:
                raise EncodedDataError(f"{where}: filter {name!r} has the wrong length")
            rows, values = self.filters.setdefault(name, ([], []))
            rows.append(row)
            values.append(value)

    def build(self) -> EncodedTable:
        if self.version is None:
            raise EncodedDataError("no encoded records to link")
        n = len(self.record_ids)
        table = EncodedTable(self.version[0], self.version[1], self.agencies, self.record_ids)
        for name, flat in self.tokens.items():
            col = np.zeros(n, dtype=np.int64)
            pairs = np.array(flat, dtype=np.uint64).reshape(-1, 2)
            col[pairs[:, 0].astype(np.int64)] = pairs[:, 1].view(np.int64)
            table.tokens[name] = col
        for name, (rows, flat) in self.multi.items():
            arr = np.zeros((n, MULTI_WIDTH), dtype=np.int64)
            arr[rows] = np.array(flat, dtype=np.uint64).view(np.int64).reshape(-1, MULTI_WIDTH)
            table.multi[name] = arr
        for name, (filter_rows, values) in self.filters.items():
            table.filters[name], table.popcounts[name] = _decode_filters(
                name, filter_rows, values, n
            )
        return table


def _hex_int(value: object) -> int:
    if not isinstance(value, str) or len(value) != 16:
        raise ValueError("token must be 16 hex characters")
    return int(value, 16)


def _decode_filters(
    name: str, row_list: list[int], values: list[str], n: int
) -> tuple[U64, npt.NDArray[np.int32]]:
    rows = np.array(row_list, dtype=np.int64)
    try:
        raw = b"".join([binascii.a2b_base64(v, strict_mode=True) for v in values])
    except (ValueError, binascii.Error) as exc:
        raise EncodedDataError(f"filter {name!r} holds invalid base64") from exc
    n_bytes = len(raw) // len(rows)
    if n_bytes % 8 or n_bytes * len(rows) != len(raw):
        raise EncodedDataError(f"filter {name!r} length is not a multiple of 64 bits")
    packed = np.frombuffer(raw, dtype="<u8").reshape(len(rows), n_bytes // 8)
    out = np.zeros((n, n_bytes // 8), dtype=np.uint64)
    out[rows] = packed
    counts = np.bitwise_count(out).sum(axis=1, dtype=np.int32)
    return out, counts


def table_from_lines(lines: Iterable[bytes | str], *, source: str = "<input>") -> EncodedTable:
    """Build a table from JSON lines (e.g. an in-memory encoding)."""
    builder = _Builder()
    for number, line in enumerate(lines, start=1):
        if line.strip():
            builder.add(_loads(line, f"{source}:{number}"), f"{source}:{number}")
    return builder.build()


def load_encoded_files(paths: Sequence[Path]) -> EncodedTable:
    """Load and concatenate encoded JSON Lines files, refusing mixed schemas/keys."""
    builder = _Builder()
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


def _loads(line: bytes | str, where: str) -> object:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise EncodedDataError(f"{where}: not valid JSON") from exc
