"""Policy tables (migration ``0003_policy``): versions, rules, sharing opt-ins, the state row.

* :class:`PolicyVersion` — one version of one scope's rules: ``*`` (program-wide
  guard rails, by the program privacy officer) or an agency name (that agency's
  rules and sharing opt-ins, by its privacy officer). Drafts have ``published``
  false; publishing stamps ``published_seq`` with the new ``policy_state``
  version. The policy in force is, for each scope, the version with the highest
  ``published_seq``. Versions are never edited once published; a rollback
  publishes a copy of an old version.
* :class:`PolicyRuleRow` — one rule of a version, exactly six fields (the
  Casbin row) plus the version it belongs to.
* :class:`SharingOptIn` — ``owner → recipient`` opt-ins of a version (agency
  scopes only; not transitive).
* :class:`PolicyState` — one row (id 1) whose ``version`` every publish bumps;
  each server process polls it and reloads its engine when it moves.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from api.db import utc_column as _when
from api.db import utcnow

__all__ = [
    "PolicyRuleRow",
    "PolicyState",
    "PolicyVersion",
    "SharingOptIn",
]


class PolicyVersion(SQLModel, table=True):
    """One version (draft or published) of one scope's rules."""

    __tablename__ = "policy_version"
    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=64, index=True)  # "*" (program-wide) or an agency name
    author: str = Field(max_length=64)
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    published: bool = False
    published_seq: int | None = Field(default=None, index=True)
    published_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class PolicyRuleRow(SQLModel, table=True):
    """One rule of a version: the six Casbin fields, never a seventh."""

    __tablename__ = "policy_rule"
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="policy_version.id", index=True)
    scope: str = Field(max_length=64)
    role: str = Field(max_length=32)
    category: str = Field(max_length=32)
    purpose: str = Field(max_length=32)
    condition: str = Field(max_length=64)
    effect: str = Field(max_length=8)


class SharingOptIn(SQLModel, table=True):
    """``owner`` lets ``recipient``'s users be considered by its rules (one version)."""

    __tablename__ = "policy_sharing"
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="policy_version.id", index=True)
    owner: str = Field(max_length=64)
    recipient: str = Field(max_length=64)


class PolicyState(SQLModel, table=True):
    """The single row (id 1) whose ``version`` moves on every publish."""

    __tablename__ = "policy_state"
    id: int = Field(default=1, primary_key=True)
    version: int = 0
