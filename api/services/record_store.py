"""Reading and writing the linkage store's rows in bulk.

Linking needs three things from the database, fast: every live record's compact
encoding and subject (at start-up), the rows changed since a process last looked
(``change_seq`` greater than its own), and a bulk upsert of a batch with its
encrypted context. Everything here runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, delete, insert, tuple_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.tables import RecordContext, StoredRecord, utcnow

__all__ = [
    "RecordRow",
    "changed_since",
    "live_rows",
    "mark_retracted",
    "move_subjects",
    "upsert_records",
]

RecordKey = tuple[str, str]
_IN_CHUNK = 500
_TABLE: Table = StoredRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class RecordRow:
    """One stored record as linking sees it."""

    agency: str
    record_id: str
    encoding: bytes
    subject_id: str
    match_probability: float
    retracted: bool


def _rows(session: Session, where: ColumnElement[bool]) -> list[RecordRow]:
    query = (
        sa_select(
            _TABLE.c.agency,
            _TABLE.c.record_id,
            _TABLE.c.encoding,
            _TABLE.c.subject_id,
            _TABLE.c.match_probability,
            _TABLE.c.retracted,
        )
        .where(where)
        .order_by(col(StoredRecord.id))
        .execution_options(yield_per=20_000)
    )
    return [RecordRow(*row) for row in session.connection().execute(query)]


def live_rows(session: Session) -> list[RecordRow]:
    """Every record that is not retracted."""
    return _rows(session, col(StoredRecord.retracted).is_(False))


def changed_since(session: Session, seq: int) -> list[RecordRow]:
    """Records (retracted ones too) written after ``seq``."""
    return _rows(session, col(StoredRecord.change_seq) > seq)


def _existing_ids(session: Session, agency: str, record_ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(record_ids), _IN_CHUNK):
        chunk = record_ids[start : start + _IN_CHUNK]
        query = select(StoredRecord.record_id, StoredRecord.id).where(
            StoredRecord.agency == agency, col(StoredRecord.record_id).in_(chunk)
        )
        found.update({rid: pk for rid, pk in session.exec(query) if pk is not None})
    return found


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A validated, linked record ready to be written."""

    record_id: str
    schema_version: str
    key_id: str
    encoding: bytes
    subject_id: str
    match_probability: float
    context: Mapping[str, bytes]  # category -> ciphertext


def upsert_records(
    session: Session, agency: str, records: Sequence[NewRecord], seq: int
) -> tuple[int, int]:
    """Insert or replace ``records`` of ``agency``; returns (created, updated)."""
    existing = _existing_ids(session, agency, [r.record_id for r in records])
    now = utcnow()
    fields = [
        {
            "agency": agency,
            "record_id": r.record_id,
            "schema_version": r.schema_version,
            "key_id": r.key_id,
            "encoding": r.encoding,
            "subject_id": r.subject_id,
            "match_probability": r.match_probability,
            "retracted": False,
            "change_seq": seq,
            "updated_at": now,
        }
        for r in records
    ]
    updates = [dict(f, pk=existing[f["record_id"]]) for f in fields if f["record_id"] in existing]
    if updates:
        table = StoredRecord.__table__  # type: ignore[attr-defined]
        values: dict[str, Any] = {
            k: bindparam(k) for k in fields[0] if k not in ("agency", "record_id")
        }
        statement = update(table).where(table.c.id == bindparam("pk")).values(**values)
        session.connection().execute(statement, updates)
        session.exec(
            delete(RecordContext).where(col(RecordContext.record_pk).in_(existing.values()))
        )
    inserts = [f for f in fields if f["record_id"] not in existing]
    if inserts:
        session.connection().execute(insert(StoredRecord), inserts)
    ids = _existing_ids(session, agency, [r.record_id for r in records])
    contexts = [
        {"record_pk": ids[r.record_id], "category": category, "ciphertext": blob}
        for r in records
        for category, blob in r.context.items()
    ]
    if contexts:
        session.connection().execute(insert(RecordContext), contexts)
    return len(inserts), len(updates)


def mark_retracted(session: Session, agency: str, record_id: str, seq: int) -> StoredRecord | None:
    """Retract one record (its context rows are deleted); ``None`` if unknown."""
    row = session.exec(
        select(StoredRecord).where(
            StoredRecord.agency == agency, StoredRecord.record_id == record_id
        )
    ).first()
    if row is None or row.retracted:
        return None
    session.exec(delete(RecordContext).where(col(RecordContext.record_pk) == row.id))
    row.retracted, row.change_seq, row.updated_at = True, seq, utcnow()
    session.add(row)
    session.flush()
    return row


def move_subjects(
    session: Session, changes: Mapping[RecordKey, tuple[str, float | None]], seq: int
) -> None:
    """Set the subject (and, when given, match probability) of existing records."""
    table = StoredRecord.__table__  # type: ignore[attr-defined]
    for (agency, record_id), (subject, probability) in changes.items():
        values: dict[str, Any] = {"subject_id": subject, "change_seq": seq}
        if probability is not None:
            values["match_probability"] = probability
        session.connection().execute(
            update(table)
            .where(tuple_(table.c.agency, table.c.record_id) == (agency, record_id))
            .values(**values)
        )
