"""Alembic environment: migrates through the engine handed over by ``api.db``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import api.hub.audit.tables  # registers the audit tables on SQLModel.metadata
import api.hub.policy_tables  # registers the policy and consent tables
import api.hub.tables  # noqa: F401 - registers the tables on SQLModel.metadata

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
