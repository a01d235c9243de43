"""A subject's context as policy and consent allow, and break-glass grants.

The view asks the published policy (:class:`api.services.policy_service.PolicyService`)
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
the deciding rule of each category and the policy version. The caller commits
before answering.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.audit import EventKind, RequestContext, record, record_alone
from api.context_crypto import decrypt_category, unwrap_data_key
from api.errors import InvalidRequest, NotFound, PermissionDenied
from api.policy_tables import BreakGlassGrant
from api.services.consents import consents_of_records
from api.services.identity import Principal, get_agency
from api.services.policy_service import ActivePolicy, PolicyService
from api.settings import Settings
from api.tables import RecordContext, StoredRecord, utcnow
from policy.consent import Requester
from policy.view import CategoryDecision, build_view, decide_categories
from policy.vocabulary import CATEGORIES, PURPOSES

__all__ = ["SubjectViews"]

_Contents = dict[str, dict[str, list[dict[str, str]]]]  # agency -> category -> per-record fields


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
        for owner in sorted({m.agency for m in members}):
            _audit_agency(
                session, user, context, subject_id, purpose, active, owner,
                [d for d in decisions if d.owner == owner], break_glass,
            )  # fmt: skip
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
        )

    def _decrypt(
        self, session: Session, members: Sequence[_Member], allowed: Iterable[tuple[str, str]]
    ) -> _Contents:
        """Decrypt the allowed categories only; nothing else is even read."""
        contents: _Contents = defaultdict(lambda: defaultdict(list))
        by_agency: dict[str, set[str]] = defaultdict(set)
        for agency, category in allowed:
            by_agency[agency].add(category)
        for agency, categories in sorted(by_agency.items()):
            records = {m.pk: m.record_id for m in members if m.agency == agency}
            rows = session.exec(
                select(RecordContext.record_pk, RecordContext.category, RecordContext.ciphertext)
                .where(
                    col(RecordContext.record_pk).in_(list(records)),
                    col(RecordContext.category).in_(sorted(categories)),
                )
                .order_by(col(RecordContext.record_pk), col(RecordContext.category))
            ).all()
            key = self._data_key(session, agency)
            for pk, category, blob in rows:
                contents[agency][category].append(
                    decrypt_category(
                        key, blob, agency=agency, record_id=records[pk], category=category
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
    rows = session.exec(
        select(StoredRecord.id, StoredRecord.agency, StoredRecord.record_id)
        .where(StoredRecord.subject_id == subject_id, col(StoredRecord.retracted).is_(False))
        .order_by(col(StoredRecord.agency), col(StoredRecord.record_id))
    ).all()
    if not rows:
        raise NotFound("no such subject")
    return [_Member(pk, agency, record_id) for pk, agency, record_id in rows if pk is not None]


def _has_grant(session: Session, user: Principal, subject_id: str, now: datetime) -> bool:
    grant = session.exec(
        select(BreakGlassGrant.id).where(
            BreakGlassGrant.user_id == user.user_id,
            BreakGlassGrant.subject_id == subject_id,
            col(BreakGlassGrant.expires_at) > now,
        )
    ).first()
    return grant is not None


def _audit_agency(
    session: Session,
    user: Principal,
    context: RequestContext,
    subject_id: str,
    purpose: str,
    active: ActivePolicy,
    owner: str,
    decisions: Sequence[CategoryDecision],
    break_glass: bool,
) -> None:
    """One ``subject.view`` event: returned and withheld categories, rules, version."""
    returned = [d.category for d in decisions if d.decision.allowed]
    withheld = {d.category: d.decision.reason for d in decisions if not d.decision.allowed}
    rules = {
        d.category: label
        for d in decisions
        if (label := active.rule_id(d.decision.rule)) is not None
    }
    deciding = next(iter(rules.values()), None)
    decision = "permit" if not withheld else "partial" if returned else "deny"
    record(
        session,
        EventKind.SUBJECT_VIEW,
        actor=user,
        context=context,
        subject_id=subject_id,
        agency=owner,
        categories=returned,
        withheld=withheld,
        decision=decision,
        rule=deciding,
        policy_version=active.version,
        purpose=purpose,
        break_glass=break_glass,
        details={"withheld": withheld, "rules": rules},
    )
