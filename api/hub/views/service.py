"""A subject's context as policy and consent allow, and break-glass grants.

The view asks the published policy (:class:`api.hub.policies.service.PolicyService`)
about every category of every agency holding live records of the subject — all
eleven categories, whether or not the agency holds data in them, so the listing
itself reveals nothing — with the consent state computed from the consents of
the subject's *current* member records and any unexpired break-glass grant of
this user for this subject. :func:`policy.view.build_view` filters: allowed
categories are returned, withheld ones listed with a reason code, *conceal
existence* ones absent. Only the allowed categories' ciphertexts are read and
decrypted; a withheld category never reaches memory.

One ``subject.view`` event per owning agency records the categories returned
and withheld (concealed ones included: the log is for auditors), the decision,
the deciding rule of each category and the policy version; the events go in one
multi-row INSERT (:func:`api.hub.audit.log.record_many`). The caller commits before
answering.

A view is a handful of statements — members, consents, the break-glass grant
(emergency purpose only), one read of every allowed context cell, the events —
each a Core statement built once at import (see ``_MEMBERS`` below).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, select, tuple_
from sqlmodel import Session

from api.errors import InvalidRequest, NotFound, PermissionDenied
from api.hub.audit import EventKind, RequestContext, record, record_alone
from api.hub.audit.log import EventFields, record_many
from api.hub.consents.service import consents_of_records
from api.hub.context_crypto import decrypt_category, unwrap_data_key
from api.hub.identity.service import Principal, get_agency
from api.hub.policies.service import ActivePolicy, PolicyService
from api.hub.policy_tables import BreakGlassGrant
from api.hub.settings import Settings
from api.hub.tables import RecordContext, StoredRecord, utcnow
from policy.consent import Requester
from policy.view import CategoryDecision, build_view, decide_categories
from policy.vocabulary import CATEGORIES, PURPOSES

__all__ = ["SubjectViews"]

_Contents = dict[str, dict[str, list[dict[str, str]]]]  # agency -> category -> per-record fields

# The view's reads are Core statements built once, values bound per call: SQLAlchemy
# compiles each once per dialect and caches it, where an ORM ``select(...)`` built per
# call costs its construction and cache key every time (a view is on every
# responder's path). Expanding parameters only re-render the IN list.
_RECORDS = StoredRecord.__table__  # type: ignore[attr-defined]
_CONTEXT = RecordContext.__table__  # type: ignore[attr-defined]
_GRANTS = BreakGlassGrant.__table__  # type: ignore[attr-defined]
_MEMBERS = (
    select(_RECORDS.c.id, _RECORDS.c.agency, _RECORDS.c.record_id)
    .where(_RECORDS.c.subject_id == bindparam("subject_id"), _RECORDS.c.retracted.is_(False))
    .order_by(_RECORDS.c.agency, _RECORDS.c.record_id)
)
_GRANT = (
    select(_GRANTS.c.id)
    .where(
        _GRANTS.c.user_id == bindparam("user_id"),
        _GRANTS.c.subject_id == bindparam("subject_id"),
        _GRANTS.c.expires_at > bindparam("now"),
    )
    .limit(1)
)
#: Exactly the allowed (record, category) cells, all agencies at once.
_CELLS = (
    select(_CONTEXT.c.record_pk, _CONTEXT.c.category, _CONTEXT.c.ciphertext)
    .where(
        tuple_(_CONTEXT.c.record_pk, _CONTEXT.c.category).in_(bindparam("cells", expanding=True))
    )
    .order_by(_CONTEXT.c.record_pk, _CONTEXT.c.category)
)


@dataclass(frozen=True, slots=True)
class _Member:
    pk: int
    agency: str
    record_id: str


class SubjectViews:
    """Filtered subject views and break-glass grants for one server process."""

    def __init__(
        self, engine: Engine, settings: Settings, policy: PolicyService, master_key: bytes
    ) -> None:
        self.db = engine
        self.settings = settings
        self.policy = policy
        self._master_key = master_key
        self._data_keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def view(
        self,
        session: Session,
        user: Principal,
        subject_id: str,
        purpose: str,
        context: RequestContext,
    ) -> dict[str, Any]:
        """The filtered view, its audit events written in ``session`` (not committed)."""
        if purpose not in PURPOSES:
            raise InvalidRequest(f"unknown purpose; purposes: {', '.join(PURPOSES)}")
        members = _members(session, subject_id)
        now = utcnow()
        break_glass = purpose == "emergency" and _has_grant(session, user, subject_id, now)
        active = self.policy.active
        decisions = self._decide(session, active, user, members, purpose, now, break_glass)
        view = build_view(decisions)
        contents = self._decrypt(session, members, view.disclosed)
        _audit_view(session, user, context, subject_id, purpose, active, members, decisions,
                    break_glass)  # fmt: skip
        agencies = [
            {
                "agency": a.owner,
                "categories": {d.category: contents[a.owner][d.category] for d in a.disclosed},
                "withheld": [{"category": w.category, "reason": w.reason} for w in a.withheld],
                "notices": sorted(d.category for d in a.disclosed if d.redisclosure_notice),
            }
            for a in view.agencies
        ]
        return {
            "subject_id": subject_id,
            "purpose": purpose,
            "policy_version": active.version,
            "break_glass": break_glass,
            "agencies": agencies,
            "notices": list(view.notices),
        }

    def _decide(
        self,
        session: Session,
        active: ActivePolicy,
        user: Principal,
        members: Sequence[_Member],
        purpose: str,
        now: datetime,
        break_glass: bool,
    ) -> tuple[CategoryDecision, ...]:
        consents = consents_of_records(session, [(m.agency, m.record_id) for m in members])
        available = {m.agency: CATEGORIES for m in members}
        return decide_categories(
            active.engine,
            Requester(user.agency, user.role.value),
            purpose,
            available,
            consents,
            now,
            break_glass=break_glass,
            cjis_authorized=user.cjis_authorized,
        )

    def _decrypt(
        self, session: Session, members: Sequence[_Member], allowed: Iterable[tuple[str, str]]
    ) -> _Contents:
        """Decrypt the allowed categories only; nothing else is even read.

        One query for every disclosing agency: it names each allowed
        ``(record, category)`` cell, so a withheld category never leaves the database.
        """
        contents: _Contents = defaultdict(lambda: defaultdict(list))
        by_agency: dict[str, set[str]] = defaultdict(set)
        for agency, category in allowed:
            by_agency[agency].add(category)
        cells = [
            (m.pk, category)
            for m in members
            if m.agency in by_agency
            for category in by_agency[m.agency]
        ]
        if not cells:
            return contents
        keys = {agency: self._data_key(session, agency) for agency in by_agency}
        by_pk = {m.pk: m for m in members}
        for pk, category, blob in session.connection().execute(_CELLS, {"cells": cells}):
            m = by_pk[pk]
            contents[m.agency][category].append(
                decrypt_category(
                    keys[m.agency], blob, agency=m.agency, record_id=m.record_id, category=category
                )
            )
        return contents

    def _data_key(self, session: Session, agency: str) -> bytes:
        with self._lock:
            key = self._data_keys.get(agency)
        if key is None:
            wrapped = get_agency(session, agency).wrapped_data_key
            key = unwrap_data_key(self._master_key, wrapped, agency)
            with self._lock:
                self._data_keys[agency] = key
        return key

    def break_glass(
        self,
        session: Session,
        user: Principal,
        subject_id: str,
        purpose: str,
        reason: str,
        context: RequestContext,
    ) -> dict[str, Any]:
        """Grant emergency access where a rule allows break-glass for some category.

        Raises:
            InvalidRequest: the purpose is not ``emergency``.
            PermissionDenied: no rule allows break-glass for this subject's data
                (the refusal is an event of its own).
        """
        if purpose != "emergency":
            raise InvalidRequest("break-glass is for purpose 'emergency' only")
        members = _members(session, subject_id)
        now, active = utcnow(), self.policy.active
        plain = self._decide(session, active, user, members, purpose, now, False)
        glass = self._decide(session, active, user, members, purpose, now, True)
        before = {(d.owner, d.category) for d in plain if d.decision.allowed}
        gained = [d for d in glass if d.decision.allowed and (d.owner, d.category) not in before]
        if not gained:
            record_alone(
                self.db, EventKind.BREAK_GLASS, actor=user, context=context,
                subject_id=subject_id, decision="deny", purpose=purpose, reason=reason,
                policy_version=active.version, details={"cause": "no_break_glass_rule"},
            )  # fmt: skip
            raise PermissionDenied("no rule allows break-glass for this subject's data")
        expires = now + timedelta(minutes=self.settings.break_glass_minutes)
        grant = BreakGlassGrant(user_id=user.user_id, subject_id=subject_id, expires_at=expires)
        session.add(grant)
        session.flush()
        categories: dict[str, list[str]] = defaultdict(list)
        for d in gained:
            categories[d.owner].append(d.category)
        record(
            session, EventKind.BREAK_GLASS, actor=user, context=context, subject_id=subject_id,
            decision="permit", purpose=purpose, reason=reason, break_glass=True,
            policy_version=active.version, rule=active.rule_id(gained[0].decision.rule),
            details={"grant_id": grant.id, "granted": [f"{d.owner}:{d.category}" for d in gained]},
        )  # fmt: skip
        return {
            "subject_id": subject_id,
            "expires_at": expires.isoformat(),
            "categories": {owner: sorted(cats) for owner, cats in sorted(categories.items())},
        }


def _members(session: Session, subject_id: str) -> list[_Member]:
    rows = session.connection().execute(_MEMBERS, {"subject_id": subject_id}).all()
    if not rows:
        raise NotFound("no such subject")
    return [_Member(pk, agency, record_id) for pk, agency, record_id in rows]


def _has_grant(session: Session, user: Principal, subject_id: str, now: datetime) -> bool:
    params = {"user_id": user.user_id, "subject_id": subject_id, "now": now}
    return session.connection().execute(_GRANT, params).first() is not None


def _audit_view(
    session: Session,
    user: Principal,
    context: RequestContext,
    subject_id: str,
    purpose: str,
    active: ActivePolicy,
    members: Sequence[_Member],
    decisions: Sequence[CategoryDecision],
    break_glass: bool,
) -> None:
    """One ``subject.view`` event per owning agency, all written in one INSERT."""
    by_owner: dict[str, list[CategoryDecision]] = {m.agency: [] for m in members}
    for d in decisions:
        by_owner[d.owner].append(d)
    events = [
        _view_event(subject_id, purpose, active, owner, by_owner[owner], break_glass)
        for owner in sorted(by_owner)
    ]
    record_many(session, EventKind.SUBJECT_VIEW, events, actor=user, context=context)


def _view_event(
    subject_id: str,
    purpose: str,
    active: ActivePolicy,
    owner: str,
    decisions: Sequence[CategoryDecision],
    break_glass: bool,
) -> EventFields:
    """An owner's ``subject.view`` event: returned and withheld categories, rules, version."""
    returned = [d.category for d in decisions if d.decision.allowed]
    withheld = {d.category: d.decision.reason for d in decisions if not d.decision.allowed}
    rules = {
        d.category: label
        for d in decisions
        if (label := active.rule_id(d.decision.rule)) is not None
    }
    deciding = next(iter(rules.values()), None)
    decision = "permit" if not withheld else "partial" if returned else "deny"
    return {
        "subject_id": subject_id,
        "agency": owner,
        "categories": returned,
        "withheld": withheld,
        "decision": decision,
        "rule": deciding,
        "policy_version": active.version,
        "purpose": purpose,
        "break_glass": break_glass,
        "details": {"withheld": withheld, "rules": rules},
    }
