"""Resolve's one entry point: rank a query's candidates and store its event, on either path.

Which path a resolve takes depends on the database (see
:mod:`api.hub.linking.loop_resolve` for the measurements): on PostgreSQL the
process's :class:`~api.hub.linking.loop_resolve.LoopResolver` runs it to
completion on the event loop, with no thread hop; on SQLite, whose audit INSERT
may wait for an open write transaction, it runs on a worker thread, on one
autocommit connection. Either way the candidates leave only once the
``subject.resolve`` event is stored.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.hub.audit import RequestContext
from api.hub.identity.service import Principal
from api.hub.linking.loop_resolve import LoopResolver, record_resolve
from api.hub.linking.service import LinkService
from api.schemas.subjects import CandidatePublic, ResolvePublic
from linkage.match.incremental import Candidate

__all__ = ["resolve_candidates"]


async def resolve_candidates(
    service: LinkService,
    loop: LoopResolver | None,
    user: Principal,
    body: bytes,
    context: RequestContext,
) -> ResolvePublic:
    """Candidate subjects for one encoded record, best first; the event is stored first.

    Args:
        service: The process's linking service.
        loop: The process's event-loop resolver (PostgreSQL); ``None`` on SQLite.
        user: The responder.
        body: The query: one line of ``crosswalk encode``, without context.
        context: The request's audit context.

    Raises:
        InvalidRequest: the query is malformed or carries context.
        NotReady: there is no model yet.
        AuditUnavailable: the event could not be written (nothing is returned).
    """
    if loop is not None:
        candidates = await loop.resolve_and_record(user, body, context)
    else:
        candidates = await run_in_threadpool(_resolve_and_record, service, user, body, context)
    return ResolvePublic(
        candidates=[
            CandidatePublic(
                subject_id=c.subject_id,
                match_probability=round(c.match_probability, 6),
                zone=c.zone,
            )
            for c in candidates
        ],
        model=service.model_source,
    )


def _resolve_and_record(
    service: LinkService, user: Principal, body: bytes, context: RequestContext
) -> list[Candidate]:
    """Resolve, then write its event (the thread path).

    Resolve reads only the in-memory index (after reading the store's version,
    and catching up if it moved), so its one write is the audit event: both
    statements run in autocommit on one connection checkout — two round trips
    instead of BEGIN, read, write, COMMIT.
    """
    with Session(service.autocommit) as session:
        candidates = service.resolve(user, body, session)
        record_resolve(session, user, context, candidates)
    return candidates
