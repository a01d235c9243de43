"""The hub's schema: Alembic migrations and the tables they create.

:func:`upgrade_database` brings any database to the newest revision —
``crosswalk serve``, ``crosswalk admin`` and the demo call it before they start.
:func:`register_tables` imports every domain's table module, so that
``SQLModel.metadata`` knows the whole schema (Alembic's env and the migration
tests need it; the app imports them anyway).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

__all__ = ["TABLE_MODULES", "alembic_config", "register_tables", "upgrade_database"]

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
