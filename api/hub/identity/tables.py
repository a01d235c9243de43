"""Identity tables: agencies, users, bearer-token digests, the identity state counter.

Migration ``0001_initial`` creates them (``0004``/``0005`` add the state row and the CJIS flag,
``0007`` who issued each token).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, text
from sqlmodel import Field, SQLModel

from api.db import utc_column as _when
from api.db import utcnow

__all__ = [
    "Agency",
    "ApiToken",
    "IdentityState",
    "User",
]


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
    #: Who minted it for someone else: the issuing admin's username, or ``cli`` for
    #: ``crosswalk admin issue-token``; ``None`` for a token a user was issued by
    #: themselves or at bootstrap. Every audit event of an act done with the token
    #: names it (:func:`api.hub.audit.events.build_event`), so an admin reading as
    #: another user is recorded as such.
    issued_by: str | None = Field(default=None, max_length=64)


class IdentityState(SQLModel, table=True):
    """The single row (id 1) whose ``version`` moves whenever a token stops being valid.

    Every server process polls it (:mod:`api.hub.identity.token_cache`) and forgets
    the principals it cached when it moves, so a revocation made anywhere reaches
    every process within ``token_cache_seconds``.
    """

    __tablename__ = "identity_state"
    id: int = Field(default=1, primary_key=True)
    version: int = 0
