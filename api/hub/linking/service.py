"""The hub's linking service: one in-memory index per process, kept in step with the DB.

Every process holds a :class:`linkage.match.index.LinkIndex` of all live records (for
millisecond blocking lookups) and the active model. The database stays the
source of truth:

* A write (submission, retraction, reviewer decision, re-link) first bumps
  ``link_state.seq`` (:func:`api.hub.linking.models.lock_link_state`). That takes
  the linking lock — a row lock on PostgreSQL, the write lock on SQLite — so
  linkers in every process run one at a time, and each writes its rows with the
  new ``seq`` as their ``change_seq``.
* Before linking or resolving, a process *catches up*: it reads the rows whose
  ``change_seq`` is newer than its own and applies them to its index (or
  reloads everything when most rows changed, e.g. after a re-link run).
* The linking outcome is applied to the in-memory index only after the
  transaction commits, so a failed batch leaves both the store and the index as
  they were.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
import orjson
from sqlalchemy import Engine
from sqlalchemy import select as sa_select
from sqlmodel import Session

from api.db import session_scope
from api.errors import InvalidRequest, NotFound, NotReady
from api.hub import audit
from api.hub.audit import RequestContext
from api.hub.audit.events import EventKind
from api.hub.context_crypto import encrypt_contexts
from api.hub.identity.data_keys import DataKeys
from api.hub.identity.service import Principal
from api.hub.linking import review
from api.hub.linking.models import active_model, lock_link_state
from api.hub.linking.submission import Prepared, SubmitOutcome, Unlinked
from api.hub.linking.tables import LinkState
from api.hub.records.store import (
    changed_since,
    live_rows,
    mark_retracted,
    move_subjects,
    upsert_records,
)
from api.hub.settings import Settings
from api.schemas.records import RecordRetractedPublic
from api.web.metrics import Metrics
from linkage.admission import SubmissionLimits, validate_batch
from linkage.match.incremental import Candidate, link_batch, resolve
from linkage.match.index import LinkIndex
from linkage.match.model import FellegiSunterModel
from linkage.match.pipeline import LinkSettings
from linkage.match.prior import prior_model
from linkage.match.subjects import SubjectIdKey, new_subject_id
from linkage.row_codec import row_blobs, table_from_blobs
from linkage.schema import default_schema
from linkage.table import EncodedTable, table_from_records

__all__ = ["LinkService", "SubmitOutcome"]

log = logging.getLogger(__name__)
#: The store's version: every write bumps it (see the module docstring).
LINK_SEQ = sa_select(LinkState.__table__.c.seq).where(LinkState.__table__.c.id == 1)  # type: ignore[attr-defined]


class LinkService:
    """Incremental linking, resolve and store synchronisation for one process."""

    def __init__(self, engine: Engine, settings: Settings, metrics: Metrics) -> None:
        self.engine = engine
        #: The same pool, each statement its own transaction: a resolve reads the
        #: store's version and writes its audit event in two round trips, not four.
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.settings = settings
        self.metrics = metrics
        self.link_settings = LinkSettings()
        #: Names new subjects; derived from the master key, which agencies and
        #: responders never hold (see :mod:`linkage.match.subject_key`).
        self.subject_key = SubjectIdKey.from_root(settings.master_key_bytes())
        self.limits = SubmissionLimits(
            max_batch_records=settings.max_batch_records, max_body_bytes=settings.max_body_bytes
        )
        canonical = default_schema()
        # The hub checks filter sizes and balance against the schema it accepts.
        self.schema = canonical if canonical.schema_version == settings.schema_version else None
        self.index: LinkIndex | None = None
        self.model: FellegiSunterModel | None = None
        self.model_id: int | None = None
        self.seq = -1
        self._lock = threading.RLock()
        self._data_keys = DataKeys(settings.master_key_bytes())
        #: Called after each submission with (records stored, no model yet): the
        #: re-link runner starts the first training run from it (wired by
        #: :class:`api.hub.services.HubServices`).
        self.on_store_grew: Callable[[int, bool], None] | None = None

    # --- synchronisation --------------------------------------------------------
    def load(self) -> None:
        """(Re)build the index and model from the database."""
        with self._lock, Session(self.engine) as session:
            state = session.get(LinkState, 1)
            assert state is not None  # noqa: S101 - created by the first migration
            self._reload(session, state, state.seq)
            session.commit()

    def _reload(self, session: Session, state: LinkState, seq: int) -> None:
        rows = live_rows(session)
        key_id = state.key_id or self.settings.key_id
        self.index = None
        if key_id is not None:
            self.index = self._index_of(rows, key_id)
        self.model_id = None  # force a model reload too
        self._load_model(session, state)
        self.seq = seq
        self.metrics.records.set(len(self.index) if self.index else 0)
        log.info("linkage index loaded: %d live records at seq %d", len(rows), seq)

    def _index_of(self, rows: Sequence[Any], key_id: str) -> LinkIndex:
        version = self.settings.schema_version
        if not rows:
            return LinkIndex.empty(version, key_id)
        table = table_from_blobs(
            version,
            key_id,
            [r.agency for r in rows],
            [r.record_id for r in rows],
            [r.encoding for r in rows],
        )
        return LinkIndex.from_table(table, [r.subject_id for r in rows])

    def _load_model(self, session: Session, state: LinkState) -> None:
        if state.model_id == self.model_id and self.model is not None:
            return
        found = active_model(session)
        self.model_id, self.model = found if found else (None, None)

    def _catch_up(self, session: Session, state: LinkState, upto: int) -> None:
        """Apply rows written by others after our ``seq`` (caller holds the lock)."""
        if self.seq >= upto:
            return
        changed = changed_since(session, self.seq)
        if self.index is None or len(changed) > max(1000, len(self.index) // 2):
            self._reload(session, state, upto)
            return
        gone = [(r.agency, r.record_id) for r in changed if r.retracted]
        live = [r for r in changed if not r.retracted]
        if gone:
            self.index.remove(gone)
        if live:
            table = table_from_blobs(
                self.index.schema_version,
                self.index.key_id,
                [r.agency for r in live],
                [r.record_id for r in live],
                [r.encoding for r in live],
            )
            self.index.upsert(table, [r.subject_id for r in live])
        self._load_model(session, state)
        self.seq = upto
        self.metrics.records.set(len(self.index))

    def sync(self, session: Session | None = None) -> None:
        """Catch up with the store if another process wrote since we last looked.

        Args:
            session: The caller's session, to spare a connection checkout on the
                resolve hot path; a short one of its own otherwise.
        """
        if session is None:
            with Session(self.engine) as own:
                self.sync(own)
            return
        seq = session.connection().execute(LINK_SEQ).scalar_one()
        if seq != self.seq:
            state = session.get(LinkState, 1, populate_existing=True)
            assert state is not None  # noqa: S101
            with self._lock:
                self._catch_up(session, state, state.seq)

    @contextmanager
    def write(self) -> Iterator[tuple[Session, LinkState]]:
        """A linking transaction: lock the store, catch up, yield, commit.

        The caller must hold ``self._lock`` around the ``with`` block *and* the
        in-memory change it applies afterwards, which happens only once the
        transaction has committed.
        """
        with session_scope(self.engine) as session:
            state = lock_link_state(session)
            self._catch_up(session, state, state.seq - 1)
            yield session, state
            seq = state.seq
        self.seq = seq  # reached only after a successful commit

    def close(self) -> None:
        """Stop background work (none of its own: the runner is stopped by its owner)."""

    # --- submission --------------------------------------------------------------
    def _expected_key_id(self, body: bytes) -> str:
        """The key id submissions must carry: configured, the store's, or (first
        batch of an empty store) the one the batch itself declares."""
        known = self.settings.key_id or (self.index.key_id if self.index else None)
        if known is not None:
            return known
        return _declared(body, "key_id")

    def submit(
        self, principal: Principal, body: bytes, context: RequestContext | None = None
    ) -> SubmitOutcome:
        """Validate, link and store one batch of the steward's agency.

        Validation, the columnar table, the row blobs and context encryption
        depend on the batch alone, so they run before the linking lock: other
        threads and processes keep linking meanwhile.
        """
        batch = validate_batch(
            body,
            agency=principal.agency,
            schema_version=self.settings.schema_version,
            key_id=self._expected_key_id(body),
            schema=self.schema,
            limits=self.limits,
        )
        records = batch.records
        table = table_from_records(records, source="batch")
        with Session(self.engine) as session:
            data_key = self._data_keys.get(session, principal.agency)
        contexts = encrypt_contexts(
            data_key, [(r.record_id, r.context) for r in records], agency=principal.agency
        )
        rows = [
            Prepared(r.record_id, r.schema_version, r.key_id, blob, context)
            for r, blob, context in zip(records, row_blobs(table), contexts, strict=True)
        ]
        with self._lock:
            return self._submit(principal, rows, table, context)

    def _submit(
        self,
        principal: Principal,
        rows: list[Prepared],
        table: EncodedTable,
        context: RequestContext | None,
    ) -> SubmitOutcome:
        with self.write() as (session, state):
            self._claim_key(state, table.key_id)
            outcome = self._link(session, table)
            created, updated = upsert_records(
                session,
                principal.agency,
                [
                    row.linked(subject, float(p))
                    for row, subject, p in zip(
                        rows, outcome.subject_ids, outcome.match_probability, strict=True
                    )
                ],
                state.seq,
            )
            move_subjects(
                session, {k: (s, None) for k, s in outcome.subject_changes.items()}, state.seq
            )
            queued = review.record_events_and_review(
                session, outcome, actor=principal, context=context
            )
            audit.record(
                session, EventKind.RECORD_SUBMIT, actor=principal, context=context,
                agency=principal.agency,
                details={"records": len(rows), "created": created, "updated": updated,
                         "merges": len(outcome.events), "review_queued": queued},
            )  # fmt: skip
        assert self.index is not None  # noqa: S101 - set by _claim_key
        self.index.apply(outcome)
        self.metrics.linked.inc(len(rows))
        self.metrics.records.set(len(self.index))
        links = [
            (rid, s, float(p))
            for (_a, rid), s, p in zip(
                table.keys(), outcome.subject_ids, outcome.match_probability, strict=True
            )
        ]
        if self.on_store_grew is not None:
            self.on_store_grew(len(self.index), self.model is None)
        return SubmitOutcome(
            created, updated, links, queued, len(outcome.events), self.model is not None
        )

    def _claim_key(self, state: LinkState, key_id: str) -> None:
        """The first accepted batch fixes the linkage key id of the store."""
        if state.key_id is None:
            state.key_id = key_id
        elif state.key_id != key_id:
            raise InvalidRequest("records are encoded with a different linkage key than the store")
        if self.index is None:
            self.index = LinkIndex.empty(self.settings.schema_version, key_id)

    def _link(self, session: Session, table: EncodedTable) -> Any:
        assert self.index is not None  # noqa: S101
        if self.model is None:
            return self._unlinked(table)
        must, cannot = review.constraints(session)
        return link_batch(
            self.index, table, self.model, self.link_settings, must_link=must, cannot_link=cannot,
            id_key=self.subject_key,
        )  # fmt: skip

    def _unlinked(self, table: EncodedTable) -> Unlinked:
        assert self.index is not None  # noqa: S101
        subjects = []
        for key in table.keys():  # noqa: SIM118 - EncodedTable.keys(), not a dict
            current = self.index.subject_of(key)
            subjects.append(current or new_subject_id([key], set(), id_key=self.subject_key))
        return Unlinked(self.index.generation, table, subjects, np.zeros(len(table)))

    def retract(
        self, principal: Principal, record_id: str, context: RequestContext | None = None
    ) -> RecordRetractedPublic:
        """Retract one record of the principal's agency."""
        with self._lock:
            with self.write() as (session, state):
                row = mark_retracted(session, principal.agency, record_id, state.seq)
                if row is None:
                    raise NotFound("no such record of your agency")
                review.obsolete_review(session, (principal.agency, record_id))
                # The row's key, not the record id: an agency's id format is not
                # the log's, and a refused event would fail the retraction.
                audit.record(
                    session, EventKind.RECORD_RETRACT, actor=principal, context=context,
                    agency=principal.agency, subject_id=row.subject_id,
                    details={"record_pk": row.id},
                )  # fmt: skip
            if self.index is not None:
                self.index.remove([(principal.agency, record_id)])
        return RecordRetractedPublic(record_id=record_id, retracted=True)

    # --- reads ---------------------------------------------------------------------
    def resolve(
        self, principal: Principal, body: bytes, session: Session | None = None
    ) -> list[Candidate]:
        """Rank the subjects one encoded record (a resolve query) may belong to."""
        table = self.query_table(body)
        self.sync(session)
        return self.rank(table)

    def query_table(self, body: bytes) -> EncodedTable:
        """A resolve query, validated like a submitted line, as a one-row table.

        A query is encoded by the responder's gateway; whichever agency it is
        stamped with, it is only compared, never stored.
        """
        batch = validate_batch(
            body.rstrip(b"\n") + b"\n",
            agency=_declared(body, "agency"),
            schema_version=self.settings.schema_version,
            key_id=self._expected_key_id(body),
            schema=self.schema,
            limits=self.limits,
        )
        if len(batch.records) != 1:
            raise InvalidRequest("resolve takes exactly one encoded record")
        if batch.records[0].context:
            raise InvalidRequest("a resolve query carries identifiers only, no context")
        return table_from_records(batch.records, source="query")

    def rank(self, table: EncodedTable) -> list[Candidate]:
        """Candidates for a query table from the in-memory index (waits for writers)."""
        with self._lock:
            return self._rank(table)

    def rank_if_free(self, table: EncodedTable) -> list[Candidate] | None:
        """:meth:`rank` without waiting: ``None`` while a writer holds the index."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self._rank(table)
        finally:
            self._lock.release()

    @property
    def model_source(self) -> Literal["trained", "prior"]:
        """Which model scores resolves now: ``trained`` (this hub's) or ``prior``."""
        return "trained" if self.model is not None else "prior"

    def _rank(self, table: EncodedTable) -> list[Candidate]:
        if self.index is None:
            raise NotReady("the linkage store is not loaded yet")
        if len(self.index) and table.key_id != self.index.key_id:
            raise InvalidRequest("the query is encoded with another linkage key")
        model = self.model or prior_model(table.schema_version, table.key_id)
        return resolve(self.index, table, model, self.link_settings)


def _declared(body: bytes, name: str) -> str:
    """A string field of the body's first line as it declares it ('' if none)."""
    try:
        first = orjson.loads(body.lstrip().split(b"\n", 1)[0])
    except orjson.JSONDecodeError:
        return ""
    value = first.get(name) if isinstance(first, dict) else None
    return value if isinstance(value, str) else ""
