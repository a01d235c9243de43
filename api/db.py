"""Database engines, sessions and UTC time columns, shared by every service.

The engine is built by the app's lifespan (or the CLI), never at import time.
SQLite gets WAL journaling, a busy timeout and enforced foreign keys, so that
several processes can share the embedded store; PostgreSQL uses psycopg 3.
Every stored time is UTC (:func:`utcnow`, :func:`utc_column`); SQLite hands
back naive datetimes, which :func:`as_utc` marks as UTC again. The hub's schema
migrations live with the hub (:mod:`api.hub.migrations`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Dialect, Engine, TypeDecorator, event
from sqlmodel import Session, create_engine

__all__ = ["UtcDateTime", "as_utc", "make_engine", "session_scope", "utc_column", "utcnow"]


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that converts every aware value to UTC, going in and out.

    SQLite keeps no offset: without the conversion ``10:00-05:00`` is stored,
    and read back, as 10:00 UTC — five hours off. PostgreSQL stores the instant
    either way. Naive values are taken to be UTC already, as :func:`as_utc` reads them.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """``value`` in UTC (``None`` and naive values unchanged)."""
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """PostgreSQL answers in the session's time zone: in UTC instead (SQLite's naive, as is)."""
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC)


def utc_column(nullable: bool = False, index: bool = False) -> Column[datetime]:
    """A timezone-aware datetime column, stored in UTC (each table gets its own Column object)."""
    return Column(UtcDateTime(), nullable=nullable, index=index)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the per-backend settings above."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it is a round trip on every checkout, and the resolve path
    # checks out twice per request. Connections are recycled instead, and a
    # request that meets a dropped connection fails once (the pool discards it).
    kwargs.setdefault("pool_recycle", 1800)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
