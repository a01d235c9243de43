"""app_user.cjis_authorized: the requester attribute of the ``cjis_authorized`` condition

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

Existing users start without CJIS authorisation (fail closed); an administrator
grants it with ``crosswalk admin set-cjis USERNAME on``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cjis_authorized", sa.Boolean(), nullable=False, server_default=sa.text("false")
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("cjis_authorized")
