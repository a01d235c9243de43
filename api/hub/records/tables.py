"""Linkage-store tables: each agency record's compact encoding and its encrypted context.

:class:`StoredRecord` holds a record's encoding (:func:`linkage.row_codec.row_blobs`),
its current subject and a ``change_seq``; :class:`RecordContext` its context, one
AES-GCM ciphertext per category. Never plaintext.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.db import utc_column as _when
from api.db import utcnow

__all__ = [
    "RecordContext",
    "StoredRecord",
]


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
