"""Shared pieces of the audit tests: a quiet hub, direct database tampering."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text

from tests.api.hub import Hub, make_settings, open_hub


def quiet_hub(database_url: str, **overrides: Any) -> Iterator[Hub]:
    """A hub without the background sealer (tests seal when they choose) and small heads."""
    settings = {"audit_seal_interval_seconds": 0, "audit_head_every_events": 4, **overrides}
    yield from open_hub(make_settings(database_url, **settings))


@contextmanager
def tampering(engine: Engine) -> Iterator[Connection]:
    """A transaction with the audit triggers off, as a database superuser could do."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            names = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit%'")
            ).scalars()
            for name in list(names):
                connection.execute(text(f'DROP TRIGGER "{name}"'))
        yield connection


def events_of(hub: Hub, **filters: Any) -> list[dict[str, Any]]:
    """Every event matching ``filters``, read straight from the table (not via the API)."""
    where = " AND ".join(f"{k} = :{k}" for k in filters) or "1 = 1"
    with hub.engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT * FROM audit_event WHERE {where} ORDER BY id"),  # noqa: S608 - test-made
            filters,
        ).mappings()
        return [dict(r) for r in rows]


def seal(hub: Hub) -> int:
    """Seal every queued event now."""
    count: int = hub.client.app.state.services.audit.sealer.seal()  # type: ignore[attr-defined]
    return count
