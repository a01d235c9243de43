"""Database tables (SQLModel). Alembic migrations in ``api/hub/migrations`` create them.

Identity: :class:`Agency`, :class:`User`, :class:`ApiToken` (hashes only).
Linkage store: :class:`StoredRecord` holds each agency record's compact encoding
(:func:`linkage.match.index.row_blobs`), its current subject and a ``change_seq``;
:class:`RecordContext` its context, one AES-GCM ciphertext per category.
:class:`LinkState` is a single row whose ``seq`` every linking transaction bumps
first: on PostgreSQL that row lock serialises linkers across processes, and each
process's in-memory index catches up by reading rows with a newer ``change_seq``.
Review, constraints, subject events, runs and models complete the linkage state.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

__all__ = [
    "Agency",
    "ApiToken",
    "IdentityState",
    "LinkConstraint",
    "LinkState",
    "LinkageModelRow",
    "LinkageRun",
    "RecordContext",
    "ReviewItem",
    "StoredRecord",
    "SubjectEventRow",
    "User",
    "as_utc",
    "utcnow",
]


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _when(nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


class Agency(SQLModel, table=True):
    """A participating agency; owns its records and its wrapped context data key."""

    __tablename__ = "agency"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    wrapped_data_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())


class User(SQLModel, table=True):
    """A person with one role at one agency."""

    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(max_length=32)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    #: Vetted and trained for criminal justice information (the ``cjis_authorized`` condition).
    cjis_authorized: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())


class ApiToken(SQLModel, table=True):
    """A bearer token, stored only as its SHA-256 (tokens carry 256 random bits)."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    expires_at: datetime = Field(sa_column=_when())
    revoked_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class IdentityState(SQLModel, table=True):
    """The single row (id 1) whose ``version`` moves whenever a token stops being valid.

    Every server process polls it (:mod:`api.hub.identity.token_cache`) and forgets
    the principals it cached when it moves, so a revocation made anywhere reaches
    every process within ``token_cache_seconds``.
    """

    __tablename__ = "identity_state"
    id: int = Field(default=1, primary_key=True)
    version: int = 0


class StoredRecord(SQLModel, table=True):
    """One agency record's encoding and current subject (never plaintext)."""

    __tablename__ = "stored_record"
    __table_args__ = (UniqueConstraint("agency", "record_id", name="uq_record_agency_id"),)
    id: int | None = Field(default=None, primary_key=True)
    agency: str = Field(max_length=64, foreign_key="agency.name", index=True)
    record_id: str = Field(max_length=128)
    schema_version: str = Field(max_length=64)
    key_id: str = Field(max_length=64)
    encoding: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    subject_id: str = Field(max_length=32, index=True)
    match_probability: float = 0.0
    retracted: bool = False
    change_seq: int = Field(default=0, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_when())


class RecordContext(SQLModel, table=True):
    """One category of a record's context, AES-GCM encrypted under the agency key."""

    __tablename__ = "record_context"
    __table_args__ = (UniqueConstraint("record_pk", "category", name="uq_context_category"),)
    id: int | None = Field(default=None, primary_key=True)
    record_pk: int = Field(foreign_key="stored_record.id", index=True, ondelete="CASCADE")
    category: str = Field(max_length=32)
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


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
