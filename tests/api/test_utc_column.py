"""Every stored time is the instant it was given, on both backends (issue #11).

SQLite keeps no offset, so before :class:`api.db.UtcDateTime` a time given as
``10:00-05:00`` was stored — and compared — as 10:00 UTC. This is the storage
layer's own guarantee, below the consent registry's conversion to UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, func, select

from api.db import UtcDateTime, as_utc, make_engine

GIVEN = datetime(2025, 6, 1, 10, 0, tzinfo=timezone(timedelta(hours=-5)))  # 15:00 UTC


@pytest.fixture
def when(database_url: str) -> Iterator[tuple[Engine, Table]]:
    """A one-column table of times on a fresh database of each backend."""
    engine = make_engine(database_url)
    table = Table("when_test", MetaData(), Column("id", Integer, primary_key=True),
                  Column("at", UtcDateTime(), nullable=True))  # fmt: skip
    table.metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def test_a_time_with_an_offset_is_stored_and_read_as_the_same_instant_in_utc(
    when: tuple[Engine, Table],
) -> None:
    engine, table = when
    with engine.begin() as connection:
        connection.execute(table.insert(), [{"at": GIVEN}, {"at": None}])
        stored = connection.execute(select(table.c.at).where(table.c.id == 1)).scalar_one()

    assert as_utc(stored) == GIVEN
    assert as_utc(stored).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("bound", "later"),
    [(datetime(2025, 6, 1, 14, 30, tzinfo=UTC), 1), (datetime(2025, 6, 1, 15, 30, tzinfo=UTC), 0),
     (datetime(2025, 6, 1, 20, 30, tzinfo=timezone(timedelta(hours=5))), 0)],
)  # fmt: skip
def test_a_query_compares_instants_not_wall_clocks(
    when: tuple[Engine, Table], bound: datetime, later: int
) -> None:
    engine, table = when
    with engine.begin() as connection:
        connection.execute(table.insert(), {"at": GIVEN})
        found = connection.execute(select(func.count()).where(table.c.at > bound)).scalar_one()

    assert found == later
