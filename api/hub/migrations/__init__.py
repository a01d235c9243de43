"""The hub's schema: Alembic migrations and the tables they create.

:func:`upgrade_database` brings any database to the newest revision —
``crosswalk serve``, ``crosswalk admin`` and the demo call it before they start.
:func:`register_tables` imports every domain's table module, so that
``SQLModel.metadata`` knows the whole schema (Alembic's env and the migration
tests need it; the app imports them anyway). :func:`head_revision` and
:func:`database_revision` let ``/readyz`` refuse a database left behind.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

__all__ = [
    "TABLE_MODULES",
    "alembic_config",
    "database_revision",
    "head_revision",
    "register_tables",
    "upgrade_database",
]

MIGRATIONS = Path(__file__).resolve().parent

#: Every module of the hub that defines tables, in dependency order.
TABLE_MODULES: tuple[str, ...] = (
    "api.hub.identity.tables",
    "api.hub.records.tables",
    "api.hub.linking.tables",
    "api.hub.policies.tables",
    "api.hub.consents.tables",
    "api.hub.views.tables",
    "api.hub.audit.tables",
)


def register_tables() -> None:
    """Import every table module of the hub (registers them on ``SQLModel.metadata``)."""
    for name in TABLE_MODULES:
        importlib.import_module(name)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that migrates through ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine) -> None:
    """Apply every pending migration (idempotent)."""
    command.upgrade(alembic_config(engine), "head")


@cache
def head_revision() -> str | None:
    """The newest revision this code's migrations define (read once per process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def database_revision(connection: Connection) -> str | None:
    """The revision in the database's ``alembic_version`` (``None``: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()
