"""The consent table (migrations ``0003_policy``, ``0006``): one row per version of a consent.

A consent is keyed by the consenting agency's record id; a revocation is a new version.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import utc_column as _when

__all__ = [
    "ConsentRow",
]


class ConsentRow(SQLModel, table=True):
    """One version of a consent (see :class:`policy.consent.Consent`)."""

    __tablename__ = "consent"
    __table_args__ = (
        # A consent id is unique within its agency only (migration 0006): no
        # agency can take, or probe, another's id by storing a version under it.
        UniqueConstraint("owner", "consent_id", "version", name="uq_consent_owner_version"),
        Index("ix_consent_owner_record", "owner", "record_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    consent_id: str = Field(max_length=64, index=True)
    version: int
    status: str = Field(max_length=16)
    owner: str = Field(max_length=64)
    record_id: str = Field(max_length=128)
    grantor: str = Field(max_length=200)
    recipients: str = Field(sa_column=Column(Text, nullable=False))  # JSON list
    categories: str = Field(sa_column=Column(Text, nullable=False))  # JSON list
    purposes: str = Field(sa_column=Column(Text, nullable=False))  # JSON list
    period_start: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    period_end: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    recorded: datetime = Field(sa_column=_when())
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
