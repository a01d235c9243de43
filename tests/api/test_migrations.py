"""Alembic migrations build exactly the schema the tables declare, on both backends.

``compare_metadata`` is autogenerate's own diff: if a table, column, index,
constraint or type in the hub's tables
(:data:`api.hub.migrations.TABLE_MODULES`) changes without a migration, it reports
the difference and the test fails.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text
from sqlmodel import Session, SQLModel

from api.db import make_engine
from api.hub.linking.tables import LinkState
from api.hub.migrations import alembic_config, register_tables, upgrade_database

register_tables()  # every table on SQLModel.metadata, for the comparison below


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a fresh, empty database of each backend."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _revisions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_upgrading_twice_is_idempotent(engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()

    upgrade_database(engine)
    tables_once = set(inspect(engine).get_table_names())
    upgrade_database(engine)

    assert set(inspect(engine).get_table_names()) == tables_once
    assert _revisions(engine) == [head]
    with Session(engine) as session:
        assert len(session.exec(select(LinkState)).all()) == 1  # type: ignore[call-overload]


def test_the_migrated_schema_matches_the_tables(engine: Engine) -> None:
    upgrade_database(engine)

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)

    assert differences == []


def test_every_declared_table_is_created(engine: Engine) -> None:
    upgrade_database(engine)

    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def test_the_link_state_row_exists_after_migration(engine: Engine) -> None:
    upgrade_database(engine)

    with Session(engine) as session:
        state = session.get(LinkState, 1)

    assert state is not None
    assert (state.seq, state.key_id, state.model_id) == (0, None, None)
