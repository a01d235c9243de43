"""consent: a consent id is unique within its agency, not across agencies

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

``uq_consent_version`` (consent_id, version) made consent ids global, so one
agency could store a version under another's id and take its consent over
(issue #11). ``uq_consent_owner_version`` (owner, consent_id, version) scopes
the id to its agency. Existing rows already satisfy it; a version an outsider
stored under someone else's id becomes what it always should have been, a
consent of the outsider's own.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_constraint("uq_consent_version", type_="unique")
        batch_op.create_unique_constraint(
            "uq_consent_owner_version", ["owner", "consent_id", "version"]
        )


def downgrade() -> None:
    # Fails if two agencies now hold a version of the same id: that is the
    # state the old constraint cannot express.
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_constraint("uq_consent_owner_version", type_="unique")
        batch_op.create_unique_constraint("uq_consent_version", ["consent_id", "version"])
