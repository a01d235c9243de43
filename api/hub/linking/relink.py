"""Background re-link runs: retrain the model and re-cluster the whole store.

A run (``POST /v1/linkage/runs``, or automatically once a model-less store
reaches ``auto_train_records``) works on a snapshot: it reads every live record
at ``seq`` S, trains a fresh model and links everything with
:func:`linkage.match.pipeline.link_table` — keeping subject ids stable against the
current assignment and honouring every reviewer constraint — without holding
the linking lock, so submissions continue meanwhile. It then takes the lock and,
in one transaction, activates the new model, moves every record *unchanged
since S* to its new subject, stores the merge/split events and the new
possible matches. Records submitted during the run keep the subject they were
linked to incrementally (they are linked under the new model from then on).
Progress is the run row's ``stage`` and ``progress``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.db import as_utc, session_scope, utcnow
from api.errors import Conflict, NotFound
from api.hub.audit import EventKind, RequestContext, record
from api.hub.linking import review
from api.hub.linking.models import activate_model
from api.hub.linking.tables import LinkageRun, LinkState
from api.hub.records.store import live_rows, move_subjects
from api.hub.records.tables import StoredRecord
from api.schemas.linking import LinkageRunPublic
from linkage.match.incremental import link_batch
from linkage.match.pipeline import link_table
from linkage.row_codec import table_from_blobs

if TYPE_CHECKING:
    from api.hub.identity.service import Principal
    from api.hub.linking.service import LinkService

__all__ = ["RunManager", "run_view"]

log = logging.getLogger(__name__)
_ACTIVE = ("queued", "running")


def run_view(run: LinkageRun) -> LinkageRunPublic:
    """The response view of a (stored) run."""
    assert run.id is not None  # noqa: S101 - flushed rows have ids
    return LinkageRunPublic(
        id=run.id,
        status=run.status,
        stage=run.stage,
        progress=round(run.progress, 3),
        records=run.records,
        subjects=run.subjects,
        error=run.error,
        created_at=as_utc(run.created_at).isoformat(),
        finished_at=as_utc(run.finished_at).isoformat() if run.finished_at else None,
    )


class RunManager:
    """Starts runs in a background thread of this process and reports on them."""

    def __init__(self, service: LinkService) -> None:
        self.service = service
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def start(
        self,
        user_id: int | None,
        *,
        actor: Principal | None = None,
        context: RequestContext | None = None,
    ) -> LinkageRun:
        """Queue a run and start it (an audit event in the same transaction); 409 while
        another run is active. ``actor`` is ``None`` for a run the hub starts itself."""
        with self._guard, session_scope(self.service.engine) as session:
            active = session.exec(select(LinkageRun).where(col(LinkageRun.status).in_(_ACTIVE)))
            if (current := active.first()) is not None:
                raise Conflict(f"linkage run {current.id} is still {current.status}")
            run = LinkageRun(created_by=user_id)
            session.add(run)
            session.flush()
            run_id = run.id
            record(
                session,
                EventKind.LINKAGE_RUN_START,
                actor=actor,
                context=context,
                details={"run_id": run_id, "automatic": actor is None},
            )
        assert run_id is not None  # noqa: S101
        self._thread = threading.Thread(
            target=self._execute, args=(run_id,), name=f"relink-{run_id}", daemon=True
        )
        self._thread.start()
        return run

    def get(self, session: Session, run_id: int) -> LinkageRun:
        """One run."""
        run = session.get(LinkageRun, run_id)
        if run is None:
            raise NotFound("no such linkage run")
        return run

    def maybe_auto_train(self, records: int, no_model: bool) -> None:
        """Start the first run by itself once a model-less store is big enough."""
        if not no_model or records < self.service.settings.auto_train_records:
            return
        with contextlib.suppress(Conflict):
            self.start(None)

    def fail_interrupted(self) -> None:
        """Runs left active by a stopped process can never finish: mark them failed."""
        if self._thread is not None and self._thread.is_alive():
            return
        with session_scope(self.service.engine) as session:
            active = session.exec(select(LinkageRun).where(col(LinkageRun.status).in_(_ACTIVE)))
            for run in active:
                run.status, run.error, run.finished_at = "failed", "interrupted", utcnow()
                session.add(run)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current run (if any) ends (tests, shutdown)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def shutdown(self) -> None:
        """Give a running run a moment to finish; it is a daemon thread otherwise."""
        self.wait(timeout=5)

    # --- the run itself ---------------------------------------------------------------
    def _progress(self, run_id: int, stage: str, progress: float, **fields: Any) -> None:
        with session_scope(self.service.engine) as session:
            run = session.get(LinkageRun, run_id)
            assert run is not None  # noqa: S101
            run.stage, run.progress = stage, progress
            for name, value in fields.items():
                setattr(run, name, value)
            session.add(run)

    def _execute(self, run_id: int) -> None:
        try:
            self._progress(run_id, "loading", 0.05, status="running")
            snapshot, table, previous, must, cannot = self._snapshot()
            self._progress(run_id, "linking", 0.2, records=len(table))
            result = link_table(
                table,
                previous=previous,
                must_link=must,
                cannot_link=cannot,
                settings=self.service.link_settings,
                id_key=self.service.subject_key,
            )
            self._progress(run_id, "writing", 0.9)
            self._write(run_id, snapshot, result)
        except Exception as exc:
            log.exception("linkage run %d failed", run_id)
            self._progress(
                run_id,
                "failed",
                1.0,
                status="failed",
                finished_at=utcnow(),
                error=type(exc).__name__,
            )

    def _snapshot(self) -> tuple[int, Any, dict[Any, str], Any, Any]:
        with Session(self.service.engine) as session:
            state = session.get(LinkState, 1)
            assert state is not None  # noqa: S101
            rows = live_rows(session)
            must, cannot = review.constraints(session)
        key_id = state.key_id
        if not rows or key_id is None:
            raise ValueError("there are no records to link")
        table = table_from_blobs(
            self.service.settings.schema_version,
            key_id,
            [r.agency for r in rows],
            [r.record_id for r in rows],
            [r.encoding for r in rows],
        )
        previous = {(r.agency, r.record_id): r.subject_id for r in rows}
        return state.seq, table, previous, must, cannot

    def _write(self, run_id: int, snapshot: int, result: Any) -> None:
        service = self.service
        with service._lock:
            with service.write() as (session, state):
                activate_model(session, state, result.model)
                moved = {(a, r): (s, p) for a, r, s, p in result.rows()}
                move_subjects(session, moved, state.seq, unchanged_since=snapshot)
                review.record_events(session, result.events, run_id)
                review.queue_review(session, list(result.possible_matches()))
                run = session.get(LinkageRun, run_id)
                assert run is not None  # noqa: S101
                run.status, run.stage, run.progress = "succeeded", "done", 1.0
                run.subjects, run.finished_at = len(set(result.subject_ids)), utcnow()
                session.add(run)
                written = state.seq
            service.load()
            late = self._relink_late(snapshot, written)
        log.info("linkage run %d: %d records re-assigned, %d late ones re-linked",
                 run_id, len(moved), late)  # fmt: skip

    def _relink_late(self, snapshot: int, written: int) -> int:
        """Link records submitted while the run worked under the new model.

        They were linked incrementally against the old clustering; now that the
        new one is stored and loaded, each is linked again as if just submitted
        (its own stored row is never its own candidate). Caller holds the lock.
        """
        service = self.service
        table_ = StoredRecord.__table__  # type: ignore[attr-defined]
        query = sa_select(table_.c.agency, table_.c.record_id, table_.c.encoding).where(
            table_.c.change_seq > snapshot,
            table_.c.change_seq != written,
            table_.c.retracted.is_(False),
        )
        with Session(service.engine) as session:
            late = session.connection().execute(query).all()
        if not late or service.index is None or service.model is None:
            return 0
        table = table_from_blobs(
            service.index.schema_version, service.index.key_id, [r[0] for r in late],
            [r[1] for r in late], [r[2] for r in late],
        )  # fmt: skip
        with service.write() as (session, state):
            must, cannot = review.constraints(session)
            outcome = link_batch(service.index, table, service.model, service.link_settings,
                                 must_link=must, cannot_link=cannot,
                                 id_key=service.subject_key)  # fmt: skip
            own = {
                key: (subject, float(p))
                for key, subject, p in zip(
                    table.keys(), outcome.subject_ids, outcome.match_probability, strict=True
                )
            }
            others = {k: (s, None) for k, s in outcome.subject_changes.items()}
            move_subjects(session, {**others, **own}, state.seq)
            review.record_events_and_review(session, outcome)
        service.index.apply(outcome)
        return len(late)
