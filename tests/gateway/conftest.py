"""Gateway test fixtures: the hub it talks to runs on SQLite and on PostgreSQL."""

from tests.api.conftest import database_url, hub, postgres_database_url

__all__ = ["database_url", "hub", "postgres_database_url"]
