"""Retention: a purge removes old events, is itself a signed event, and leaves a verifiable log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from api.db import session_scope, utcnow
from api.errors import InvalidRequest
from api.hub.audit import EventKind, record
from api.hub.audit.service import AuditService
from tests.api.audit.helpers import events_of, quiet_hub


def test_a_purge_is_signed_and_the_log_still_verifies(database_url: str) -> None:
    for hub in quiet_hub(database_url):
        service: AuditService = hub.client.app.state.services.audit  # type: ignore[attr-defined]
        with session_scope(hub.engine) as session:
            for i in range(10):
                record(session, EventKind.SUBJECT_RESOLVE, details={"candidates": i})
        service.sealer.seal()
        later = utcnow() + timedelta(days=365 * 7)

        outcome = service.purge_before(later - timedelta(days=365 * 6 + 2), now=later)

        assert (outcome.through_seq, outcome.events) == (10, 10)
        remaining = events_of(hub)
        assert [e["kind"] for e in remaining] == ["audit.retention_purge"]
        with hub.engine.connect() as db:
            assert db.execute(text("SELECT count(*) FROM audit_chain")).scalar_one() == 11
            signed = db.execute(text("SELECT max(tree_size) FROM audit_tree_head")).scalar_one()
        assert signed == 11
        report = service.verify()
        assert report.intact, report.problem
        assert (report.events, report.purged) == (11, 10)


def test_a_purge_inside_six_years_is_refused(database_url: str) -> None:
    for hub in quiet_hub(database_url):
        service: AuditService = hub.client.app.state.services.audit  # type: ignore[attr-defined]

        with pytest.raises(InvalidRequest, match="6 years"):
            service.purge_before(utcnow() - timedelta(days=365 * 5))


def test_events_cannot_be_deleted_outside_a_purge(database_url: str) -> None:
    for hub in quiet_hub(database_url):
        service: AuditService = hub.client.app.state.services.audit  # type: ignore[attr-defined]
        with session_scope(hub.engine) as session:
            record(session, EventKind.SUBJECT_RESOLVE, details={"candidates": 1})
        service.sealer.seal()

        with pytest.raises(Exception, match="append-only"), hub.engine.begin() as db:
            db.execute(text("DELETE FROM audit_event"))
