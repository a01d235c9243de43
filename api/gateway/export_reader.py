"""Reading an agency's export: a CSV file, or a folder of them, into encoded rows.

Agencies export what they have: most have no ``ssn`` column, some no middle
name. A canonical column that is absent is treated as empty for every row and
named once in the report; only the record-id column is required. Malformed rows
(wrong number of cells, no record id, a record id seen before, text that is not
UTF-8) are refused one by one with a reason, never with their content. Each good
row is encoded with the agency's secret into the hub's line format, with its
shareable context (only the columns mapped to a category: nothing is shared by
accident), and fingerprinted so a later sync can tell changed from unchanged.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from linkage.encode.encoding import RecordEncoder
from linkage.errors import InputDataError
from linkage.records import CONTEXT_CATEGORIES

__all__ = ["ExportRow", "ExportScan", "scan_export"]


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One good row: its record id, plaintext identity, encoded line and fingerprint."""

    record_id: str
    identity: dict[str, str]
    line: bytes
    fingerprint: str


@dataclass
class ExportScan:
    """What reading an export found."""

    rows: list[ExportRow] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    missing_columns: list[str] = field(default_factory=list)
    unparseable: Counter[str] = field(default_factory=Counter)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if not files:
            raise InputDataError(f"{path} holds no .csv export")
        return files
    if not path.is_file():
        raise InputDataError(f"{path} does not exist")
    return [path]


def scan_export(
    path: Path, encoder: RecordEncoder, context: Mapping[str, Sequence[str]]
) -> ExportScan:
    """Read and encode every row of the export at ``path``.

    Raises:
        InputDataError: the export cannot be read at all (missing, no record-id
            column, an unknown context category).
    """
    for category in context:
        if category not in CONTEXT_CATEGORIES:
            raise InputDataError(f"unknown context category {category!r}")
    scan = ExportScan()
    seen: set[str] = set()
    for file in _files(path):
        for where, record_id, cells in _rows(file, encoder, context, scan):
            if record_id in seen:
                scan.refused.append((where, "duplicate_record_id"))
                continue
            seen.add(record_id)
            scan.rows.append(_encode(encoder, record_id, cells, context, scan.unparseable))
    return scan


def _rows(
    file: Path, encoder: RecordEncoder, context: Mapping[str, Sequence[str]], scan: ExportScan
) -> Iterator[tuple[str, str, dict[str, str]]]:
    try:
        handle = file.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputDataError(f"cannot read {file.name}: {exc.strerror}") from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except (StopIteration, UnicodeDecodeError, csv.Error) as exc:
            raise InputDataError(f"{file.name} has no readable header") from exc
        rid_column = encoder.schema.record_id_column
        if rid_column not in header:
            raise InputDataError(f"{file.name} lacks the record-id column {rid_column!r}")
        wanted = list(encoder.schema.input_columns) + [c for cs in context.values() for c in cs]
        for column in wanted:
            if column not in header and column not in scan.missing_columns:
                scan.missing_columns.append(column)
        yield from _good_rows(file, reader, header, rid_column, scan)


def _good_rows(
    file: Path, reader: Iterator[list[str]], header: list[str], rid_column: str, scan: ExportScan
) -> Iterator[tuple[str, str, dict[str, str]]]:
    width = len(header)
    number = 1
    while True:
        number += 1
        where = f"{file.name}:{number}"
        try:
            row = next(reader)
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error):
            scan.refused.append((where, "unreadable_row"))
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            scan.refused.append((where, "wrong_number_of_cells"))
            continue
        cells = dict(zip(header, row, strict=True))
        record_id = cells[rid_column].strip()
        if not record_id:
            scan.refused.append((where, "missing_record_id"))
            continue
        yield where, record_id, cells


def _encode(
    encoder: RecordEncoder,
    record_id: str,
    cells: Mapping[str, str],
    context: Mapping[str, Sequence[str]],
    counts: Counter[str],
) -> ExportRow:
    values = {
        spec.name: " ".join(v for c in spec.columns if (v := cells.get(c, "").strip()))
        for spec in encoder.schema.fields
    }
    shared = {
        category: {c: cells[c].strip() for c in columns if cells.get(c, "").strip()}
        for category, columns in context.items()
    }
    context_json = orjson.dumps({k: v for k, v in shared.items() if v})
    line = encoder.encode_line(record_id, values, context_json, counts)
    return ExportRow(record_id, values, line, hashlib.sha256(line).hexdigest())
