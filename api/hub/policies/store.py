"""Stored policy versions: drafts, publishing, the policy in force, the state counter.

Everything here runs inside the caller's transaction and decides nothing: the
callers (:mod:`api.hub.policies.admin`, :mod:`~api.hub.policies.reads`,
:mod:`~api.hub.policies.service`) check authority, validate with
:mod:`policy.validation`, write audit events and shape the responses.

The policy in force is, for each scope (``*`` or an agency), the published
version with the highest ``published_seq``; its label is ``v<policy_state.version>``.
Publishing bumps ``policy_state.version`` first — a row lock on PostgreSQL, the
write lock on SQLite — so concurrent publishers are serialised and every publish
gets its own state number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from api.db import as_utc, utcnow
from api.errors import NotFound
from api.hub.policies.tables import PolicyRuleRow, PolicyState, PolicyVersion, SharingOptIn
from policy.rules import PolicySet, Rule, SharingPair
from policy.vocabulary import WILDCARD

__all__ = [
    "PROGRAM_SCOPE",
    "PublishedPolicy",
    "StoredVersion",
    "add_version",
    "bump_state",
    "list_versions",
    "load_version",
    "mark_published",
    "policy_state",
    "published_policy",
    "version_label",
]

#: The scope of program-wide guard rails (a rule's ``scope`` field, too).
PROGRAM_SCOPE = WILDCARD


def version_label(state: int) -> str:
    """The label of the policy in force after publish number ``state`` (``v0``: none yet)."""
    return f"v{state}"


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One stored version of one scope's rules and opt-ins."""

    id: int
    scope: str
    author: str
    note: str
    created_at: datetime
    published: bool
    published_seq: int | None
    published_at: datetime | None
    rules: tuple[Rule, ...] = ()
    rule_ids: tuple[int, ...] = ()
    sharing: tuple[SharingPair, ...] = ()

    def policy_set(self) -> PolicySet:
        """This version alone as an (unvalidated) policy set."""
        return PolicySet(self.rules, frozenset(self.sharing), f"version-{self.id}")


@dataclass(frozen=True, slots=True)
class PublishedPolicy:
    """The policy in force: every scope's latest published version, combined.

    Attributes:
        state: ``policy_state.version`` when it was read.
        policy: the combined rules and opt-ins (not yet validated).
        rule_ids: each rule's row id, for audit events and explain output.
        versions: scope → the version id in force.
    """

    state: int
    policy: PolicySet
    rule_ids: Mapping[Rule, int] = field(default_factory=dict)
    versions: Mapping[str, int] = field(default_factory=dict)


def policy_state(session: Session) -> int:
    """The current ``policy_state.version`` (a cheap primary-key read)."""
    state = session.get(PolicyState, 1, populate_existing=True)
    if state is None:  # pragma: no cover - created by migration 0003
        raise NotFound("policy_state row missing: migrate the database")
    return state.version


def bump_state(session: Session) -> int:
    """Increment ``policy_state.version`` (locking the row) and return the new value."""
    session.connection().execute(
        update(PolicyState).where(col(PolicyState.id) == 1).values(version=PolicyState.version + 1)
    )
    return policy_state(session)


def add_version(
    session: Session,
    scope: str,
    author: str,
    note: str,
    rules: Iterable[Rule],
    sharing: Iterable[SharingPair],
) -> int:
    """Store a draft version of ``scope``; returns its id."""
    version = PolicyVersion(scope=scope, author=author, note=note)
    session.add(version)
    session.flush()
    assert version.id is not None  # noqa: S101 - flushed
    for rule in rules:
        scope_, role, category, purpose, condition, effect = rule.to_fields()
        session.add(
            PolicyRuleRow(
                version_id=version.id,
                scope=scope_,
                role=role,
                category=category,
                purpose=purpose,
                condition=condition,
                effect=effect,
            )
        )
    for owner, recipient in sharing:
        session.add(SharingOptIn(version_id=version.id, owner=owner, recipient=recipient))
    session.flush()
    return version.id


def mark_published(session: Session, version_id: int, state: int) -> None:
    """Stamp a version as published under ``state``."""
    version = session.get(PolicyVersion, version_id)
    if version is None:
        raise NotFound("no such policy version")
    version.published = True
    version.published_seq = state
    version.published_at = utcnow()
    session.add(version)
    session.flush()


def load_version(session: Session, version_id: int) -> StoredVersion:
    """One version with its rules and opt-ins (404 when absent)."""
    row = session.get(PolicyVersion, version_id)
    if row is None:
        raise NotFound("no such policy version")
    return _with_contents(session, [row])[0]


def list_versions(session: Session, scope: str | None = None) -> list[StoredVersion]:
    """Every version (of ``scope``), newest first, with contents."""
    query = select(PolicyVersion).order_by(col(PolicyVersion.id).desc())
    if scope is not None:
        query = query.where(PolicyVersion.scope == scope)
    return _with_contents(session, list(session.exec(query).all()))


def published_policy(session: Session) -> PublishedPolicy:
    """The policy in force now, read in one transaction."""
    state = policy_state(session)
    latest = (
        select(PolicyVersion.scope, func.max(PolicyVersion.published_seq).label("seq"))
        .where(col(PolicyVersion.published).is_(True))
        .group_by(col(PolicyVersion.scope))
        .subquery()
    )
    rows = session.exec(
        select(PolicyVersion).join(
            latest,
            (col(PolicyVersion.scope) == latest.c.scope)
            & (col(PolicyVersion.published_seq) == latest.c.seq),
        )
    ).all()
    versions = _with_contents(session, list(rows))
    rules = tuple(rule for v in versions for rule in v.rules)
    ids = {rule: rid for v in versions for rule, rid in zip(v.rules, v.rule_ids, strict=True)}
    sharing = frozenset(pair for v in versions for pair in v.sharing)
    return PublishedPolicy(
        state,
        PolicySet(rules, sharing, version_label(state)),
        ids,
        {v.scope: v.id for v in versions},
    )


def _with_contents(session: Session, rows: Sequence[PolicyVersion]) -> list[StoredVersion]:
    ids = [row.id for row in rows if row.id is not None]
    rules: dict[int, list[PolicyRuleRow]] = {i: [] for i in ids}
    sharing: dict[int, list[SharingPair]] = {i: [] for i in ids}
    if ids:
        for rule in session.exec(
            select(PolicyRuleRow)
            .where(col(PolicyRuleRow.version_id).in_(ids))
            .order_by(col(PolicyRuleRow.id))
        ):
            rules[rule.version_id].append(rule)
        for pair in session.exec(
            select(SharingOptIn)
            .where(col(SharingOptIn.version_id).in_(ids))
            .order_by(col(SharingOptIn.id))
        ):
            sharing[pair.version_id].append((pair.owner, pair.recipient))
    return [
        StoredVersion(
            id=row.id,
            scope=row.scope,
            author=row.author,
            note=row.note,
            created_at=as_utc(row.created_at),
            published=row.published,
            published_seq=row.published_seq,
            published_at=as_utc(row.published_at) if row.published_at else None,
            rules=tuple(
                Rule(r.scope, r.role, r.category, r.purpose, r.condition, r.effect)
                for r in rules[row.id]
            ),
            rule_ids=tuple(r.id for r in rules[row.id] if r.id is not None),
            sharing=tuple(sharing[row.id]),
        )
        for row in rows
        if row.id is not None
    ]
