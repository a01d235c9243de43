"""Audit tables (SQLModel, registered on ``SQLModel.metadata``); migration ``0002_audit``.

* :class:`AuditEvent` — one row per event, written in the act's own transaction.
  Append-only: database triggers refuse UPDATE and DELETE (DELETE only for a
  retention purge holding an :class:`AuditPurgePermit`), and an INSERT trigger
  queues the event in :class:`AuditPending`.
* :class:`AuditChain` — the sealer's output: chain position ``seq`` (1, 2, …),
  the event, the previous entry's hash and this entry's hash (the RFC 6962 leaf
  hash of ``prev_hash || canonical event``). Append-only too, and kept after a
  purge, so the tree over the whole history can still be recomputed.
* :class:`AuditHead` — one mutable row (id 1): the chain's size, last hash and
  Merkle compact range, and when the last tree head was signed. A cache only:
  the verifier recomputes everything from events and chain.
* :class:`AuditTreeHead` — signed tree heads (Ed25519), append-only.
* :class:`AuditReview` — an auditor's review of a break-glass event (mutable
  work state, deliberately outside the log; each review is also an event).

No foreign keys point at ``audit_event``: a purge must be able to remove old
events while their chain entries stay.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, Text, text
from sqlmodel import Field, SQLModel

from api.db import utc_column as _when

__all__ = [
    "AuditChain",
    "AuditEvent",
    "AuditHead",
    "AuditPending",
    "AuditPurgePermit",
    "AuditReview",
    "AuditTreeHead",
]

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only


class AuditEvent(SQLModel, table=True):
    """One audit event; see :mod:`api.hub.audit.events` for the fields' vocabularies."""

    __tablename__ = "audit_event"
    # Every index is paid for on each audited request; only subject (accounting),
    # user and time are indexed, and break-glass events (the review queue) through
    # a partial index that costs the ordinary writes nothing.
    __table_args__ = (
        Index(
            "ix_audit_event_break_glass",
            "break_glass",
            postgresql_where=text("break_glass"),
            sqlite_where=text("break_glass"),
        ),
    )
    id: int | None = Field(default=None, sa_column=Column(_BIG_ID, primary_key=True))
    occurred_at: datetime = Field(sa_column=_when(index=True))
    kind: str = Field(max_length=40)  # not indexed: searches narrow by subject, user or time
    actor_user_id: int | None = None
    actor_username: str | None = Field(default=None, max_length=64, index=True)
    actor_role: str | None = Field(default=None, max_length=32)
    actor_agency: str | None = Field(default=None, max_length=64)
    subject_id: str | None = Field(default=None, max_length=64, index=True)
    agency: str | None = Field(default=None, max_length=64)
    categories: str = Field(default="", max_length=400)
    withheld: str = Field(default="", max_length=400)
    decision: str | None = Field(default=None, max_length=16)
    rule: str | None = Field(default=None, max_length=64)
    policy_version: str | None = Field(default=None, max_length=64)
    purpose: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    incident: str | None = Field(default=None, max_length=64)
    break_glass: bool = False
    client: str | None = Field(default=None, max_length=64)
    request_id: str | None = Field(default=None, max_length=64)
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class AuditPending(SQLModel, table=True):
    """An event not yet sealed into the chain (filled by an INSERT trigger)."""

    __tablename__ = "audit_pending"
    event_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


class AuditChain(SQLModel, table=True):
    """An event's place in the hash chain and Merkle tree."""

    __tablename__ = "audit_chain"
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    prev_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    entry_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditHead(SQLModel, table=True):
    """The single row (id 1) sealers lock and advance."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    frontier: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signed_size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    signed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class AuditTreeHead(SQLModel, table=True):
    """A signed tree head: Ed25519 over size, time and root (:mod:`api.hub.audit.signing`)."""

    __tablename__ = "audit_tree_head"
    id: int | None = Field(default=None, primary_key=True)
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    root_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    timestamp_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    key_id: str = Field(max_length=16)
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditReview(SQLModel, table=True):
    """An auditor's review of one break-glass event."""

    __tablename__ = "audit_review"
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    reviewed_by: str = Field(max_length=64)
    reviewed_at: datetime = Field(sa_column=_when())
    note: str = Field(max_length=500)


class AuditPurgePermit(SQLModel, table=True):
    """Present only inside a purge transaction: lets the trigger allow DELETE up to a seq."""

    __tablename__ = "audit_purge_permit"
    through_seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
