"""What auditors read: filtered events, exports, the break-glass queue, disclosures.

Filters combine with AND: user (actor username), agency (the actor's *or* the data-
owning agency), subject, category (returned or withheld), purpose, decision, kind,
break-glass and a time range. Results come newest first, a page at a time
(``limit``, and ``before_id`` from the previous page); exports stream the same rows
as CSV or JSON Lines. The accounting of disclosures lists, for one person, every
disclosure event that returned at least one category in the last six years —
following the person through subject merges and splits (``subject_event``), since a
merge gives their records a new subject id.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Select, Table, or_, select
from sqlmodel import Session

from api.db import as_utc, utcnow
from api.hub.audit.events import CANONICAL_FIELDS, DISCLOSURE_KINDS, split_categories
from api.hub.audit.tables import AuditChain, AuditEvent, AuditReview
from api.schemas.audit import (
    AuditEventPublic,
    BreakGlassEventPublic,
    BreakGlassReviewPublic,
    DisclosurePublic,
    DisclosuresPublic,
)

__all__ = [
    "ACCOUNTING_YEARS",
    "EXPORT_COLUMNS",
    "EventFilter",
    "break_glass_queue",
    "csv_chunks",
    "disclosures",
    "event_view",
    "json_lines",
    "search_events",
]

ACCOUNTING_YEARS = 6
_EVENT: Table = AuditEvent.__table__  # type: ignore[attr-defined]
_CHAIN: Table = AuditChain.__table__  # type: ignore[attr-defined]
_E = _EVENT.c
EXPORT_COLUMNS: tuple[str, ...] = ("seq", *CANONICAL_FIELDS)


@dataclass(frozen=True)
class EventFilter:
    """Search criteria; ``None`` means any."""

    user: str | None = None
    agency: str | None = None
    subject_id: str | None = None
    category: str | None = None
    purpose: str | None = None
    decision: str | None = None
    kind: str | None = None
    break_glass: bool | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        """``query`` narrowed by every criterion given."""
        equal = {
            "actor_username": self.user,
            "subject_id": self.subject_id,
            "purpose": self.purpose,
            "decision": self.decision,
            "kind": self.kind,
            "break_glass": self.break_glass,
        }
        for name, value in equal.items():
            if value is not None:
                query = query.where(_E[name] == value)
        if self.agency is not None:
            query = query.where(or_(_E.agency == self.agency, _E.actor_agency == self.agency))
        if self.category is not None:
            pattern = f"%,{self.category},%"
            query = query.where(or_(_E.categories.like(pattern), _E.withheld.like(pattern)))
        if self.since is not None:
            query = query.where(_E.occurred_at >= self.since)
        if self.until is not None:
            query = query.where(_E.occurred_at < self.until)
        return query

    def as_details(self) -> dict[str, Any]:
        """The criteria for the access event (times as epoch seconds)."""
        out: dict[str, Any] = {}
        for name in ("user", "agency", "subject_id", "category", "purpose", "decision", "kind"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.break_glass is not None:
            out["break_glass"] = self.break_glass
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None:
                out[name] = int(moment.timestamp())
        return out


def _base() -> Select[Any]:
    return select(_CHAIN.c.seq, *(_E[name] for name in CANONICAL_FIELDS)).select_from(
        _EVENT.outerjoin(_CHAIN, _CHAIN.c.event_id == _E.id)
    )


def event_view(row: Any) -> dict[str, Any]:
    """The JSON form of one event row (``seq`` first, as in :data:`EXPORT_COLUMNS`).

    The exports write it as it is; responses validate it into
    :class:`~api.schemas.audit.AuditEventPublic`, which has the same fields.
    """
    view = dict(zip(EXPORT_COLUMNS, row, strict=True))
    view["occurred_at"] = as_utc(view["occurred_at"]).isoformat()
    view["categories"] = split_categories(view["categories"])
    view["withheld"] = split_categories(view["withheld"])
    view["details"] = orjson.loads(view["details"])
    return view


def search_events(
    session: Session, criteria: EventFilter, limit: int, before_id: int | None = None
) -> list[AuditEventPublic]:
    """One page of matching events, newest first, older than event ``before_id`` if given.

    Paging by id rather than offset keeps pages stable while the log grows
    (every search adds an event of its own).
    """
    query = criteria.apply(_base())
    if before_id is not None:
        query = query.where(_E.id < before_id)
    query = query.order_by(_E.id.desc()).limit(limit)
    rows = session.connection().execute(query)
    return [AuditEventPublic.model_validate(event_view(row)) for row in rows]


def _rows(session: Session, criteria: EventFilter) -> Iterator[Any]:
    query = criteria.apply(_base()).order_by(_E.id)
    yield from session.connection().execution_options(yield_per=2000).execute(query)


def csv_chunks(
    session: Session, criteria: EventFilter, rows_per_chunk: int = 2000
) -> Iterator[str]:
    """Matching events as CSV (oldest first); lists joined by ``;``, details as JSON."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for n, row in enumerate(_rows(session, criteria), start=1):
        view = event_view(row)
        view["categories"] = ";".join(view["categories"])
        view["withheld"] = ";".join(view["withheld"])
        view["details"] = orjson.dumps(view["details"], option=orjson.OPT_SORT_KEYS).decode()
        writer.writerow(["" if view[c] is None else view[c] for c in EXPORT_COLUMNS])
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_lines(session: Session, criteria: EventFilter) -> Iterator[bytes]:
    """Matching events as JSON Lines (oldest first)."""
    for row in _rows(session, criteria):
        yield orjson.dumps(event_view(row)) + b"\n"


def break_glass_queue(
    session: Session, reviewed: bool, limit: int, offset: int
) -> list[BreakGlassEventPublic]:
    """Break-glass events awaiting review (or already reviewed, with the review)."""
    review = AuditReview.__table__  # type: ignore[attr-defined]
    query = (
        _base()
        .add_columns(review.c.reviewed_by, review.c.reviewed_at, review.c.note)
        .outerjoin(review, review.c.event_id == _E.id)
        .where(_E.break_glass.is_(True))
        .where(review.c.id.isnot(None) if reviewed else review.c.id.is_(None))
        .order_by(_E.id)
        .offset(offset)
        .limit(limit)
    )
    out = []
    for row in session.connection().execute(query):
        view = event_view(row[: len(EXPORT_COLUMNS)])
        by, at, note = row[len(EXPORT_COLUMNS) :]
        view["review"] = (
            BreakGlassReviewPublic(reviewed_by=by, reviewed_at=as_utc(at).isoformat(), note=note)
            if by
            else None
        )
        out.append(BreakGlassEventPublic.model_validate(view))
    return out


def disclosures(
    session: Session, subject_id: str, lineage: set[str], now: datetime | None = None
) -> DisclosuresPublic:
    """The accounting of disclosures of one person over the last six years.

    Args:
        session: The auditor's session.
        subject_id: The person's current subject id.
        lineage: ``subject_id`` and every id the person's records had before
            merges and splits (:func:`api.hub.linking.lineage.subject_lineage`):
            disclosures made under an earlier id are the same person's.
        now: The end of the accounting period (default: now).
    """
    now = now or utcnow()
    since = now - timedelta(days=365 * ACCOUNTING_YEARS + ACCOUNTING_YEARS // 4 + 1)
    lineage = lineage | {subject_id}
    query = (
        _base()
        .where(_E.subject_id.in_(sorted(lineage)))
        .where(_E.kind.in_(sorted(DISCLOSURE_KINDS)))
        .where(_E.categories != "")
        .where(_E.occurred_at >= since)
        .order_by(_E.occurred_at, _E.id)
    )
    rows = session.connection().execute(query)
    return DisclosuresPublic(
        subject_id=subject_id,
        subject_ids=sorted(lineage),
        since=since.isoformat(),
        until=now.isoformat(),
        # A disclosure is the event's view narrowed to DisclosurePublic's fields.
        disclosures=[DisclosurePublic.model_validate(event_view(row)) for row in rows],
    )
