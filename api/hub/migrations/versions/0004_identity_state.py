"""identity_state: the version every server process polls to forget cached tokens

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

One row (id 1, version 0), bumped by every token revocation
(:func:`api.hub.identity.service.revoke_tokens`); see :mod:`api.hub.identity.token_cache`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "identity_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("identity_state")
