"""The break-glass grant table (migration ``0003_policy``): short-lived emergency access."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from api.db import utc_column as _when
from api.db import utcnow

__all__ = [
    "BreakGlassGrant",
]


class BreakGlassGrant(SQLModel, table=True):
    """Emergency access for one user to one subject until ``expires_at``."""

    __tablename__ = "break_glass_grant"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    subject_id: str = Field(max_length=32, index=True)
    granted_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    expires_at: datetime = Field(sa_column=_when())
