"""Alembic environment: migrates through the engine that :func:`alembic_config` hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from api.hub.migrations import register_tables

register_tables()

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
