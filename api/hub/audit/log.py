"""Writing audit events: :func:`record`, in the caller's own transaction.

``record(session, kind, actor=…, …)`` checks the fields (:func:`api.hub.audit.events.build_event`)
and inserts the event into ``audit_event`` through ``session``, flushing at once,
so a log that cannot be written fails the act *before* it does anything else,
and the act's rollback takes the event with it: no log, no act. (``session.add``
would defer the INSERT to the next flush, possibly past the point of disclosure.) Writers take no
lock and compute no hash — an INSERT trigger queues the event and the sealer
(:mod:`api.hub.audit.sealer`) chains queued events shortly after they commit. That
keeps the chain's serial section out of every request (see the sealer's
docstring for why: on a disk where a commit costs ~5 ms, a lock held through
each writer's commit caps the log near 200 events/s).

An act that writes several events (a subject view: one per owning agency) writes
them with :func:`record_many` — the same checks and the same failure, but one
multi-row ``INSERT`` instead of one round trip per event.

A route that *discloses* (context, audit search results) must call
``session.commit()`` itself before it returns: FastAPI sends the response before
a ``yield`` dependency's commit, so a commit that failed there would come too late.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import orjson
from sqlalchemy import Connection, Engine, insert, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from api.db import session_scope
from api.errors import AuditUnavailable
from api.hub.audit.events import CANONICAL_FIELDS, EventKind, build_event
from api.hub.audit.tables import AuditEvent

if TYPE_CHECKING:
    from api.hub.audit.events import Actor

__all__ = [
    "CLI_CONTEXT",
    "EventFields",
    "RequestContext",
    "record",
    "record_alone",
    "record_many",
    "record_subject_changes",
]

log = logging.getLogger(__name__)
_EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
# One Core statement, values bound as parameters: SQLAlchemy compiles it once and
# caches it. (``insert(AuditEvent).values(**row)`` would build a new ORM statement
# and its cache key on every call — half a millisecond per audited request.)
_INSERT = insert(_EVENTS).returning(_EVENTS.c.id)
_FIELDS = ", ".join(CANONICAL_FIELDS[1:])  # every column an event sets: all but the id
#: Many events in one PostgreSQL statement: a JSON array of rows, expanded by the server
#: into ``audit_event`` rows (a field too long for its column fails as in any INSERT).
_INSERT_JSON_ROWS = text(
    f"INSERT INTO audit_event ({_FIELDS}) "  # noqa: S608 - column names, not values
    f"SELECT {_FIELDS} FROM json_populate_recordset(NULL::audit_event, :rows)"
)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Where an act came from: the request id and the client address."""

    request_id: str | None = None
    client: str | None = None


#: Context of acts run from the command line on the server.
CLI_CONTEXT = RequestContext(None, "cli")


def record(
    session: Session,
    kind: str,
    *,
    actor: Actor | None = None,
    context: RequestContext | None = None,
    subject_id: str | None = None,
    agency: str | None = None,
    categories: Iterable[str] = (),
    withheld: Iterable[str] = (),
    decision: str | None = None,
    rule: str | None = None,
    policy_version: str | None = None,
    purpose: str | None = None,
    reason: str | None = None,
    incident: str | None = None,
    break_glass: bool = False,
    client: str | None = None,
    request_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Write one event in ``session``'s transaction (at once, not at the next flush).

    Args:
        session: The act's session; the event commits or rolls back with it.
        kind: An :class:`api.hub.audit.events.EventKind`.
        actor: The authenticated caller; ``None`` for anonymous or CLI acts.
        context: Request id and client address (``client``/``request_id`` override it).
        subject_id: The subject the act concerns.
        agency: The agency whose data or membership the act concerns.
        categories: Data categories disclosed (or otherwise acted on).
        withheld: Data categories withheld.
        decision: ``permit``, ``deny`` or ``partial``.
        rule: The deciding rule's id.
        policy_version: The policy version that decided.
        purpose: The stated purpose of use.
        reason: The stated reason (the only free text; bounded).
        incident: An incident number, when given.
        break_glass: The act used emergency access.
        client: Client address.
        request_id: Request id.
        details: Ids, counts and category names only.

    Returns:
        The event's id.

    Raises:
        AuditFieldError: a field could carry plaintext or is outside its vocabulary.
        AuditUnavailable: the event could not be written (the act must fail).
    """
    ctx = context or RequestContext()
    built = build_event(
        kind,
        actor=actor,
        subject_id=subject_id,
        agency=agency,
        categories=categories,
        withheld=withheld,
        decision=decision,
        rule=rule,
        policy_version=policy_version,
        purpose=purpose,
        reason=reason,
        incident=incident,
        break_glass=break_glass,
        client=client or ctx.client,
        request_id=request_id or ctx.request_id,
        details=details,
    )
    try:  # Core, not the ORM: this is on every audited request's path
        event_id: int = session.connection().execute(_INSERT, built.values).scalar_one()
    except SQLAlchemyError as exc:
        log.error("audit event could not be written (%s)", type(exc).__name__)
        raise AuditUnavailable("the audit log cannot be written; nothing was done") from exc
    return event_id


class EventFields(TypedDict, total=False):
    """What one event of :func:`record_many` says (the keywords of :func:`record`)."""

    subject_id: str | None
    agency: str | None
    categories: Iterable[str]
    withheld: Iterable[str]
    decision: str | None
    rule: str | None
    policy_version: str | None
    purpose: str | None
    reason: str | None
    incident: str | None
    break_glass: bool
    details: Mapping[str, Any] | None


def record_many(
    session: Session,
    kind: str,
    events: Sequence[EventFields],
    *,
    actor: Actor | None = None,
    context: RequestContext | None = None,
) -> int:
    """Write several events of one act in ``session``'s transaction, in one ``INSERT``.

    Every event is checked (:func:`api.hub.audit.events.build_event`) before any is
    sent, so one bad field writes none of them. The rows then go in a single
    multi-row ``INSERT`` (:func:`_insert_rows`), which succeeds or fails as a
    whole, at once, like :func:`record`.

    Args:
        session: The act's session; the events commit or roll back with it.
        kind: An :class:`api.hub.audit.events.EventKind`, the same for every event.
        events: Each event's own fields (as :func:`record` takes them).
        actor: The authenticated caller; ``None`` for anonymous or CLI acts.
        context: Request id and client address, the same for every event.

    Returns:
        How many events were written.

    Raises:
        AuditFieldError: a field of some event could carry plaintext or is
            outside its vocabulary (nothing was written).
        AuditUnavailable: the events could not be written (the act must fail).
    """
    ctx = context or RequestContext()
    rows = [
        build_event(
            kind, actor=actor, client=ctx.client, request_id=ctx.request_id, **fields
        ).values
        for fields in events
    ]
    return _write_rows(session, rows)


def _write_rows(session: Session, rows: list[dict[str, Any]]) -> int:
    """Write checked event values in one statement; returns how many.

    Raises:
        AuditUnavailable: they could not be written (the act must fail).
    """
    if not rows:
        return 0
    try:
        _insert_rows(session.connection(), rows)
    except SQLAlchemyError as exc:
        log.error("audit events could not be written (%s)", type(exc).__name__)
        raise AuditUnavailable("the audit log cannot be written; nothing was done") from exc
    return len(rows)


def _insert_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """One ``INSERT`` statement for all ``rows`` (checked event values).

    PostgreSQL gets the rows as one JSON parameter (:data:`_INSERT_JSON_ROWS`):
    the statement's text never changes, so psycopg parses it once and prepares
    it, where a ``VALUES`` list of 20 parameters per row would be re-parsed on
    every call (psycopg caches statements of at most 50 parameters; that parse
    was ~0.5 ms of CPU per ten-event view). Elsewhere SQLAlchemy's
    "insertmanyvalues" turns :data:`_INSERT` with a list of parameter sets into
    one ``INSERT … VALUES (…), (…) RETURNING id`` (it does so because of the
    ``RETURNING``; without it each row would be an ``INSERT`` of its own).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(_INSERT_JSON_ROWS, {"rows": orjson.dumps(rows).decode()})
    else:
        connection.execute(_INSERT, rows).all()


def record_alone(engine: Engine, kind: str, **fields: Any) -> None:
    """Write one event in a transaction of its own (refusals: there is no act to join)."""
    with session_scope(engine) as session:
        record(session, kind, **fields)


def record_subject_changes(
    session: Session,
    changes: Iterable[Any],
    *,
    actor: Actor | None = None,
    context: RequestContext | None = None,
    run_id: int | None = None,
) -> int:
    """One ``linkage.merge`` / ``linkage.split`` event per subject change, in one INSERT.

    ``changes`` are :class:`linkage.match.subjects.SubjectEvent`-like objects
    (``kind``, ``subject_ids``, ``previous_ids``); returns how many were written.
    """
    ctx = context or RequestContext()
    rows = [
        build_event(
            EventKind.SUBJECT_MERGE if change.kind == "merge" else EventKind.SUBJECT_SPLIT,
            actor=actor,
            client=ctx.client,
            request_id=ctx.request_id,
            subject_id=change.subject_ids[0] if change.subject_ids else None,
            details={
                "subject_ids": list(change.subject_ids),
                "previous_ids": list(change.previous_ids),
                "run_id": run_id,
            },
        ).values
        for change in changes
    ]
    return _write_rows(session, rows)
