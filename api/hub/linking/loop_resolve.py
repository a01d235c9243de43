"""Resolve on PostgreSQL runs to completion on the event loop, not on a worker thread.

A resolve is about 1.5 ms of Python (validating the query, ranking it against
the in-memory index) around two short statements: read the store's version,
write the audit event. Measured with locust against ``crosswalk serve`` (2
workers, 300 requests/s offered, ``benchmarks/bench_service.py``; figures in
the README):

* **on the thread pool** (every other route's way) each request's thread
  competes for the GIL with the other in-flight requests and with the event
  loop that reads requests and writes responses. CPython's GIL is not fair:
  p95 110–180 ms, p99 180–270 ms, with the CPU half idle;
* **awaiting the statements** (psycopg's asyncio mode) lets the loop start
  other requests while one waits, so every request's Python interleaves with
  every other's: p95 64–110 ms;
* **run to completion on the loop** — both statements as plain blocking calls
  — serves requests one after another in arrival order, each in ~2 ms:
  p95 46 ms, p99 67 ms, server-side 95% under 10 ms, and the least CPU.

Blocking the loop is safe here only because neither statement can wait for a
lock on PostgreSQL (a snapshot read of one row; an INSERT into the append-only
log, whose ids come from a sequence), and a ``statement_timeout`` bounds what a
stalled server could cost. Everything that can take long still goes to a
thread, where the loop awaits it: catching up with records another process
wrote, and ranking while a submission in this process holds the index (the
lock is tried on the loop, never waited for). On SQLite the audit INSERT waits
for any open write transaction, so SQLite keeps the thread-pool path.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.hub.audit import EventKind, RequestContext, record
from api.hub.identity.service import Principal
from api.hub.linking.service import LINK_SEQ, LinkService
from linkage.match.incremental import Candidate

__all__ = ["STATEMENT_TIMEOUT_MS", "LoopResolver", "record_resolve"]

#: The longest either statement may hold the event loop.
STATEMENT_TIMEOUT_MS = 1000


class LoopResolver:
    """Resolve and its audit event for one process, on its event loop (PostgreSQL).

    Args:
        service: The process's linking service (index, model, validation).
        engine: An engine on the same database, in autocommit, with a statement timeout.
    """

    def __init__(self, service: LinkService, engine: Engine) -> None:
        self.service = service
        self.engine = engine

    @classmethod
    def for_service(cls, service: LinkService) -> LoopResolver | None:
        """A resolver on ``service``'s PostgreSQL database; ``None`` on SQLite.

        Its engine is its own (two connections: the loop runs one resolve at a
        time), so the statement timeout never reaches other work's connections.
        """
        url = service.engine.url
        if url.get_backend_name() != "postgresql":
            return None
        given = url.query.get("options")  # e.g. a search_path; kept
        given = " ".join(given) if isinstance(given, tuple) else given or ""
        options = f"{given} -c statement_timeout={STATEMENT_TIMEOUT_MS}".strip()
        engine = create_engine(
            url.update_query_dict({"options": options}),
            isolation_level="AUTOCOMMIT",
            pool_size=2,
            max_overflow=2,
            pool_recycle=1800,
        )
        return cls(service, engine)

    def close(self) -> None:
        """Close its connections."""
        self.engine.dispose()

    async def resolve_and_record(
        self, user: Principal, body: bytes, context: RequestContext
    ) -> list[Candidate]:
        """Rank the query's candidate subjects; they leave only once the event is stored.

        Raises:
            InvalidRequest: the query is malformed or carries context.
            NotReady: the store is not loaded yet.
            AuditUnavailable: the event could not be written (nothing is returned).
        """
        service = self.service
        table = service.query_table(body)  # validation: no store access
        # Two short checkouts, not one held across the awaits below: while this
        # resolve waits on a thread, others run on the loop and need this small
        # pool (a checkout that waited would block the loop).
        with Session(self.engine) as session:
            seq = session.connection().execute(LINK_SEQ).scalar_one()
        if seq != service.seq:
            await run_in_threadpool(service.sync)
        candidates = service.rank_if_free(table)
        if candidates is None:  # a submission is linking in this process
            candidates = await run_in_threadpool(service.rank, table)
        with Session(self.engine) as session:
            record_resolve(session, user, context, candidates)
        return candidates


def record_resolve(
    session: Session, user: Principal, context: RequestContext, candidates: list[Candidate]
) -> None:
    """The ``subject.resolve`` event: how many candidates, and their subject ids only."""
    record(
        session,
        EventKind.SUBJECT_RESOLVE,
        actor=user,
        context=context,
        decision="permit",
        details={"candidates": len(candidates), "subject_ids": [c.subject_id for c in candidates]},
    )
