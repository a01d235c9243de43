"""api_token.issued_by: who minted a token for another user

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

An admin could issue a token for any user and act with it, and the audit log
named only the victim (issue #11, finding 8). The token now records its issuer
(the admin's username, or ``cli``), and every event of an act done with it
carries ``token_issued_by`` in its details. Existing tokens keep ``NULL``: who
issued them was never stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("issued_by")
