"""Reading and writing cluster assignments and reviewer constraints as CSV.

* clusters: ``agency,record_id,subject_id,match_probability`` — one row per record;
* constraints: ``agency_l,record_id_l,agency_r,record_id_r,decision`` with decision
  ``must_link`` or ``cannot_link`` (a linkage reviewer's verdicts).

Writes are atomic (temporary file, then rename).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from linkage.errors import ConstraintError, InputDataError
from linkage.records import RecordKey

__all__ = [
    "CLUSTER_COLUMNS",
    "read_clusters",
    "read_constraints",
    "write_clusters",
    "write_pairs",
]

CLUSTER_COLUMNS = ("agency", "record_id", "subject_id", "match_probability")
Constraint = tuple[RecordKey, RecordKey]


def write_clusters(path: Path, rows: Iterable[tuple[str, str, str, float]]) -> int:
    """Write cluster rows atomically; returns how many were written."""
    return _atomic_csv(path, CLUSTER_COLUMNS, ((a, r, s, f"{p:.6f}") for a, r, s, p in rows))


def write_pairs(path: Path, pairs: Iterable[tuple[RecordKey, RecordKey, float]]) -> int:
    """Write possible-match pairs for review atomically."""
    header = ("agency_l", "record_id_l", "agency_r", "record_id_r", "match_probability")
    return _atomic_csv(path, header, ((*a, *b, f"{p:.6f}") for a, b, p in pairs))


def _atomic_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[str]]) -> int:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
                count += 1
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def _read_csv(path: Path, required: set[str]) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = required - set(reader.fieldnames or ())
            if missing:
                raise InputDataError(f"{path} lacks column(s): {', '.join(sorted(missing))}")
            return list(reader)
    except UnicodeDecodeError as exc:
        raise InputDataError(f"{path} is not UTF-8 text") from exc
    except csv.Error as exc:
        raise InputDataError(f"{path} is not a readable CSV file: {exc}") from exc


def read_clusters(path: Path) -> dict[RecordKey, str]:
    """Read a clusters file into ``(agency, record_id) → subject_id``."""
    rows = _read_csv(path, {"agency", "record_id", "subject_id"})
    out = {}
    for number, row in enumerate(rows, start=2):
        if not row["agency"] or not row["record_id"] or not row["subject_id"]:
            raise InputDataError(f"{path}:{number}: empty agency, record_id or subject_id")
        out[(row["agency"], row["record_id"])] = row["subject_id"]
    return out


def read_constraints(path: Path) -> tuple[list[Constraint], list[Constraint]]:
    """Read reviewer constraints; returns ``(must_link, cannot_link)``."""
    rows = _read_csv(path, {"agency_l", "record_id_l", "agency_r", "record_id_r", "decision"})
    must: list[Constraint] = []
    cannot: list[Constraint] = []
    for number, row in enumerate(rows, start=2):
        pair = ((row["agency_l"], row["record_id_l"]), (row["agency_r"], row["record_id_r"]))
        if row["decision"] == "must_link":
            must.append(pair)
        elif row["decision"] == "cannot_link":
            cannot.append(pair)
        else:
            raise ConstraintError(f"{path}:{number}: decision must be must_link or cannot_link")
    return must, cannot
