"""The gateway's own store, inside the agency: its records' plaintext and its sync state.

The hub never sees an identifier, so "is this the right person?" can only be
answered here: for a candidate subject, the hub names the requesting user's
*own agency's* member records, and the gateway shows that agency's own
plaintext for them from this store (it never left the agency). The same rows
remember what the last sync submitted (a fingerprint of each record's encoded
line and context), which is how a sync knows what is new, changed, unchanged or
gone, and how it resumes after a crash without skipping or re-deciding anything.

SQLite (stdlib ``sqlite3``): one small file per gateway, created owner-only
(0600) because it holds plaintext. Every write is one transaction.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

__all__ = ["LocalStore", "OwnRecord"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS own_record (
    record_id   TEXT PRIMARY KEY,
    identity    TEXT NOT NULL,          -- JSON: the record's identifier fields, plaintext
    fingerprint TEXT NOT NULL,          -- sha256 of what the hub was (or is to be) sent
    synced      INTEGER NOT NULL        -- 1 once the hub accepted this fingerprint
);
CREATE TABLE IF NOT EXISTS sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

#: Identifier fields kept for confirming a person (the SSN is not kept: nobody
#: confirms a person on a call by reading their SSN off a screen).
SHOWN_FIELDS: tuple[str, ...] = (
    "given_name", "middle_name", "family_name", "birth_date", "sex",
    "street_address", "city", "postcode", "phone",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class OwnRecord:
    """One of the agency's records as the gateway knows it."""

    record_id: str
    identity: dict[str, str]
    fingerprint: str
    synced: bool


class LocalStore:
    """The gateway's SQLite store (thread-safe: one connection, one lock).

    Args:
        path: The database file; its folder is created (0700) and the file is 0600.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            path.touch(mode=0o600)
        os.chmod(path, 0o600)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- reading --------------------------------------------------------------------
    def get(self, record_id: str) -> OwnRecord | None:
        """One record, or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT record_id, identity, fingerprint, synced FROM own_record "
                "WHERE record_id = ?",
                (record_id,),
            ).fetchone()
        return _row(row) if row else None

    def many(self, record_ids: Iterable[str]) -> list[OwnRecord]:
        """The records among ``record_ids`` that the store holds, in the order asked."""
        wanted = list(dict.fromkeys(record_ids))
        found = {r.record_id: r for r in (self.get(rid) for rid in wanted) if r is not None}
        return [found[rid] for rid in wanted if rid in found]

    def fingerprints(self) -> dict[str, tuple[str, bool]]:
        """Every record id with its fingerprint and whether the hub has it."""
        with self._lock:
            rows = self._db.execute("SELECT record_id, fingerprint, synced FROM own_record")
            return {rid: (fp, bool(synced)) for rid, fp, synced in rows}

    def count(self) -> int:
        """How many records the store holds."""
        with self._lock:
            (n,) = self._db.execute("SELECT count(*) FROM own_record").fetchone()
        return int(n)

    # --- writing --------------------------------------------------------------------
    def stage(self, records: Iterable[tuple[str, Mapping[str, str], str]]) -> None:
        """Record what a sync is about to send: ``(record_id, identity, fingerprint)``.

        A staged record is ``synced = 0`` until :meth:`mark_synced`; a record whose
        fingerprint is unchanged keeps its state.
        """
        with self._transaction() as db:
            for record_id, identity, fingerprint in records:
                shown = {k: v for k, v in identity.items() if k in SHOWN_FIELDS and v}
                db.execute(
                    "INSERT INTO own_record (record_id, identity, fingerprint, synced) "
                    "VALUES (?, ?, ?, 0) ON CONFLICT (record_id) DO UPDATE SET "
                    "identity = excluded.identity, "
                    "synced = CASE WHEN own_record.fingerprint = excluded.fingerprint "
                    "THEN own_record.synced ELSE 0 END, "
                    "fingerprint = excluded.fingerprint",
                    (record_id, orjson.dumps(shown).decode(), fingerprint),
                )

    def mark_synced(self, record_ids: Iterable[str]) -> None:
        """The hub accepted these records as staged."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE own_record SET synced = 1 WHERE record_id = ?",
                [(rid,) for rid in record_ids],
            )

    def forget(self, record_ids: Iterable[str]) -> None:
        """These records were retracted at the hub."""
        with self._transaction() as db:
            db.executemany(
                "DELETE FROM own_record WHERE record_id = ?", [(rid,) for rid in record_ids]
            )

    def get_state(self, key: str) -> str | None:
        """A sync-state value."""
        with self._lock:
            row = self._db.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, key: str, value: str) -> None:
        """Set a sync-state value."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO sync_state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def _row(row: tuple[str, str, str, int]) -> OwnRecord:
    record_id, identity, fingerprint, synced = row
    return OwnRecord(record_id, orjson.loads(identity), fingerprint, bool(synced))
