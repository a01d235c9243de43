"""API test fixtures: every ``hub`` test runs on SQLite and on PostgreSQL.

Each test gets a fresh database: a temporary SQLite file, or a schema of its own
on the PostgreSQL test server (selected through ``search_path``), dropped after.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.api.hub import Hub, make_settings, open_hub


def _pg_schema_url(base: str, schema: str) -> str:
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture
def postgres_database_url(postgres_url: str) -> Iterator[str]:
    """A fresh schema of its own on the PostgreSQL test server."""
    base = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    url: str = request.getfixturevalue("postgres_database_url")
    return url


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    """A running hub on a fresh database of each backend."""
    yield from open_hub(make_settings(database_url))
