"""Linking tables: the link-state row, models, review items, constraints, subject events, runs.

:class:`LinkState` is a single row whose ``seq`` every linking transaction bumps
first: on PostgreSQL that row lock serialises linkers across processes, and each
process's in-memory index catches up by reading rows with a newer ``change_seq``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import utc_column as _when
from api.db import utcnow

__all__ = [
    "LinkConstraint",
    "LinkState",
    "LinkageModelRow",
    "LinkageRun",
    "ReviewItem",
    "SubjectEventRow",
]


class LinkState(SQLModel, table=True):
    """The single row (id 1) that serialises linking and versions the store."""

    __tablename__ = "link_state"
    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    key_id: str | None = Field(default=None, max_length=64)
    model_id: int | None = None  # the active LinkageModelRow


class LinkageModelRow(SQLModel, table=True):
    """A Fellegi–Sunter model as saved by ``FellegiSunterModel.to_dict`` (JSON)."""

    __tablename__ = "linkage_model"
    id: int | None = Field(default=None, primary_key=True)
    schema_version: str = Field(max_length=64)
    key_id: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = Field(default=False, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())


class ReviewItem(SQLModel, table=True):
    """A possible match for a linkage reviewer to settle."""

    __tablename__ = "review_item"
    __table_args__ = (
        UniqueConstraint(
            "agency_l", "record_id_l", "agency_r", "record_id_r", name="uq_review_pair"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    agency_l: str = Field(max_length=64)
    record_id_l: str = Field(max_length=128)
    agency_r: str = Field(max_length=64)
    record_id_r: str = Field(max_length=128)
    match_probability: float
    status: str = Field(default="open", max_length=16, index=True)  # open | decided
    decision: str | None = Field(default=None, max_length=16)  # same | different
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    decided_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class LinkConstraint(SQLModel, table=True):
    """A reviewer's must-link or cannot-link between two records."""

    __tablename__ = "link_constraint"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # must_link | cannot_link
    agency_l: str = Field(max_length=64)
    record_id_l: str = Field(max_length=128)
    agency_r: str = Field(max_length=64)
    record_id_r: str = Field(max_length=128)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())


class SubjectEventRow(SQLModel, table=True):
    """A merge or split of subjects (ids as JSON lists)."""

    __tablename__ = "subject_event"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    subject_ids: str = Field(sa_column=Column(Text, nullable=False))
    previous_ids: str = Field(sa_column=Column(Text, nullable=False))
    run_id: int | None = Field(default=None, foreign_key="linkage_run.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())


class LinkageRun(SQLModel, table=True):
    """A background re-link of the whole store."""

    __tablename__ = "linkage_run"
    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="queued", max_length=16)  # queued|running|succeeded|failed
    stage: str = Field(default="queued", max_length=32)
    progress: float = 0.0
    records: int = 0
    subjects: int = 0
    error: str | None = Field(default=None, max_length=500)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    finished_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
