"""Several events of one act in one INSERT (:func:`api.hub.audit.log.record_many`).

A subject view writes one ``subject.view`` event per owning agency; they go to
the log in a single statement that stores exactly what :func:`record` would,
checks every event before writing any, and fails as a whole: when one agency's
event cannot be written the view answers 503, discloses nothing and leaves no
event of any agency behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from api.db import session_scope
from api.errors import AuditUnavailable
from api.hub.audit import AuditFieldError, EventKind, RequestContext, record
from api.hub.audit.log import EventFields, record_many
from api.hub.identity import service as identity
from linkage.encode.keys import LinkageSecret
from tests.api.audit.helpers import events_of, quiet_hub
from tests.api.hub import Hub
from tests.api.policy_setup import MARKERS, PolicyHub, build_policy_hub

CONTEXT = RequestContext("req-batch-1", "10.0.0.7")


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    """A hub without the background sealer."""
    yield from quiet_hub(database_url)


@pytest.fixture
def ph(hub: Hub, secret: LinkageSecret, fixtures_dir: Path) -> PolicyHub:
    """The default policy and one subject with records at four agencies."""
    return build_policy_hub(hub, secret, fixtures_dir)


def _event_inserts(engine: Engine) -> list[str]:
    """A list that collects every INSERT into ``audit_event`` sent through ``engine``."""
    sent: list[str] = []

    def collect(*args: Any) -> None:
        statement = args[2]
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", collect)
    return sent


def _refuse_events_of(engine: Engine, agency: str) -> None:
    """Make every insert of an event about ``agency`` fail (as a full disk would)."""
    with engine.begin() as db:
        if db.dialect.name == "postgresql":
            db.execute(
                text(
                    "CREATE FUNCTION audit_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.agency = '{agency}' THEN "
                    "RAISE EXCEPTION 'could not extend file: no space left'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            db.execute(
                text(
                    "CREATE TRIGGER audit_fail BEFORE INSERT ON audit_event "
                    "FOR EACH ROW EXECUTE FUNCTION audit_fail()"
                )
            )
        else:
            db.execute(
                text(
                    "CREATE TRIGGER audit_fail BEFORE INSERT ON audit_event "
                    f"WHEN NEW.agency = '{agency}' "
                    "BEGIN SELECT RAISE(ABORT, 'no space left'); END"
                )
            )


def _fields(agency: str, **overrides: Any) -> EventFields:
    fields: EventFields = {
        "subject_id": "S-batch",
        "agency": agency,
        "categories": ["medical", "housing"],
        "withheld": ["substance_use"],
        "decision": "partial",
        "rule": "rule-7",
        "policy_version": "v3",
        "purpose": "emergency",
        "reason": 'unresponsive patient, "crisis" history — suspected',
        "incident": "INC-42",
        "break_glass": True,
        "details": {"withheld": {"substance_use": "default_deny"}, "rules": {"medical": "rule-7"}},
    }
    fields.update(overrides)  # type: ignore[typeddict-item]
    return fields


def test_a_view_writes_one_event_per_agency_in_one_insert(ph: PolicyHub) -> None:
    sent = _event_inserts(ph.hub.engine)

    response = ph.hub.client.get(
        f"/v1/subjects/{ph.subject_id}",
        params={"purpose": "public_safety"},
        headers={**ph.hub.auth("officer"), "X-Request-ID": "view-1"},
    )

    assert response.status_code == 200, response.text
    assert len(sent) == 1
    events = events_of(ph.hub, kind="subject.view")
    assert sorted(e["agency"] for e in events) == sorted(ph.record_ids)
    assert {(e["request_id"], e["actor_username"], e["purpose"]) for e in events} == {
        ("view-1", "officer", "public_safety")
    }


def test_one_unwritable_event_fails_the_whole_view_and_discloses_nothing(ph: PolicyHub) -> None:
    _refuse_events_of(ph.hub.engine, "homeless_services")  # the third of four agencies

    response = ph.hub.client.get(
        f"/v1/subjects/{ph.subject_id}",
        params={"purpose": "public_safety"},
        headers=ph.hub.auth("officer"),
    )

    assert response.status_code == 503
    assert set(response.json()) == {"detail"}
    assert not [m for m in MARKERS if m in response.text]
    assert not [a for a in ph.record_ids if a in response.text]
    assert events_of(ph.hub, kind="subject.view") == []  # not even the other agencies'


def test_the_batch_stores_exactly_what_record_stores(hub: Hub) -> None:
    token = hub.user("medic", "ems_medic", "ems")
    with session_scope(hub.engine) as session:
        medic = identity.authenticate(session, token)
        record(session, EventKind.BREAK_GLASS, actor=medic, context=CONTEXT, **_fields("ems"))
        written = record_many(
            session,
            EventKind.BREAK_GLASS,
            [_fields("ems"), _fields("police_cad", categories=[], details=None)],
            actor=medic,
            context=CONTEXT,
        )

    assert written == 2
    one, batched, other = (
        {k: v for k, v in e.items() if k not in {"id", "occurred_at"}}
        for e in events_of(hub, kind="subject.break_glass")
    )
    assert batched == one
    assert batched["reason"] == 'unresponsive patient, "crisis" history — suspected'
    assert (batched["client"], batched["request_id"], batched["break_glass"]) == (
        "10.0.0.7",
        "req-batch-1",
        True,
    )
    assert (other["agency"], other["categories"], other["details"]) == ("police_cad", "", "{}")


def test_every_event_is_checked_before_any_is_written(hub: Hub) -> None:
    bad = _fields("ems", reason="call her at 555-867-5309")
    with session_scope(hub.engine) as session, pytest.raises(AuditFieldError):
        record_many(session, EventKind.SUBJECT_VIEW, [_fields("police_cad"), bad])

    assert events_of(hub, kind="subject.view") == []


def test_an_unwritable_batch_raises_and_leaves_none_of_its_events(hub: Hub) -> None:
    _refuse_events_of(hub.engine, "ems")
    events = [_fields("police_cad"), _fields("ems")]
    # The error is caught inside the transaction, which then commits: the batch is one
    # statement, so not even the first event went in.
    with session_scope(hub.engine) as session, pytest.raises(AuditUnavailable):
        record_many(session, EventKind.SUBJECT_VIEW, events, context=CONTEXT)

    assert events_of(hub, kind="subject.view") == []


def test_no_events_is_no_statement(hub: Hub) -> None:
    sent = _event_inserts(hub.engine)
    with session_scope(hub.engine) as session:
        assert record_many(session, EventKind.SUBJECT_VIEW, []) == 0

    assert sent == []
