"""Direct edits of the database are found by verification, and the first one is named.

Each test builds a sealed, signed log of twelve events (heads at 4, 8 and 12),
then changes the tables the way someone with database access could — with the
append-only triggers switched off first — and checks that ``verify`` reports
the right kind of problem at the right event, through the service, the HTTP
route and the offline CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.exc import DBAPIError

from api.cli import main
from api.db import session_scope
from api.hub.audit import EventKind, record
from api.hub.audit.events import build_event, canonical_bytes
from api.hub.audit.sealer import EVENT_COLUMNS
from api.hub.audit.signing import TreeHeadSigner, parse_private_key, public_pem
from api.hub.audit.tables import AuditEvent
from api.hub.audit.verify import VerifyReport
from api.hub.settings import DEV_SIGNING_SEED
from tests.api.audit import reference
from tests.api.audit.helpers import quiet_hub, seal, tampering
from tests.api.hub import Hub

EVENTS = 12


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    """A hub whose log holds twelve sealed events and signed heads at 4, 8 and 12."""
    for hub in quiet_hub(database_url):
        with session_scope(hub.engine) as session:
            for i in range(EVENTS):
                record(
                    session,
                    EventKind.SUBJECT_VIEW,
                    subject_id=f"S-{i:016x}",
                    agency="police",
                    withheld=["medical", "housing"],
                    decision="deny",
                    rule="no_policy",
                    purpose="crisis_response",
                    client="10.0.0.7",
                    request_id=f"req-{i}",
                    details={"withheld": {"medical": "no_policy"}},
                )
        assert seal(hub) == EVENTS
        yield hub


def _verify(hub: Hub) -> VerifyReport:
    report: VerifyReport = hub.client.app.state.services.audit.verify()  # type: ignore[attr-defined]
    return report


def _event_at(connection: Connection, seq: int) -> int:
    event_id: int = connection.execute(
        text("SELECT event_id FROM audit_chain WHERE seq = :s"), {"s": seq}
    ).scalar_one()
    return event_id


def _shift(connection: Connection, from_seq: int, by: int) -> None:
    """Renumber chain entries from ``from_seq`` on (in two steps: seq is a primary key)."""
    connection.execute(
        text("UPDATE audit_chain SET seq = -(seq + :by) WHERE seq >= :s"), {"s": from_seq, "by": by}
    )
    connection.execute(text("UPDATE audit_chain SET seq = -seq WHERE seq < 0"))


def _entry(connection: Connection, seq: int) -> bytes:
    entry: bytes = connection.execute(
        text("SELECT entry_hash FROM audit_chain WHERE seq = :s"), {"s": seq}
    ).scalar_one()
    return entry


def _leaf_of(connection: Connection, event_id: int, prev: bytes) -> bytes:
    row = connection.execute(select(*EVENT_COLUMNS).where(EVENT_COLUMNS[0] == event_id)).one()
    return reference.leaf(prev + canonical_bytes(row))


def test_an_untouched_log_is_intact(hub: Hub) -> None:
    report = _verify(hub)

    assert report.intact, report.problem
    assert (report.events, report.heads_checked, report.signed_size) == (EVENTS, 3, EVENTS)


def test_an_edited_field_is_named(hub: Hub) -> None:
    with tampering(hub.engine) as db:
        victim = _event_at(db, 5)
        db.execute(
            text("UPDATE audit_event SET purpose = 'treatment' WHERE id = :i"), {"i": victim}
        )

    problem = _verify(hub).problem

    assert problem is not None
    assert (problem.kind, problem.seq, problem.event_id) == ("altered", 5, victim)


def test_an_edited_hash_is_named(hub: Hub) -> None:
    with tampering(hub.engine) as db:
        db.execute(text("UPDATE audit_chain SET entry_hash = :h WHERE seq = 7"), {"h": bytes(32)})

    problem = _verify(hub).problem

    assert problem is not None
    assert (problem.kind, problem.seq) == ("altered", 7)


def test_a_deleted_event_row_is_named(hub: Hub) -> None:
    with tampering(hub.engine) as db:
        victim = _event_at(db, 6)
        db.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": victim})

    problem = _verify(hub).problem

    assert problem is not None
    assert (problem.kind, problem.seq, problem.event_id) == ("deleted", 6, victim)


def test_a_deleted_row_and_its_chain_entry_are_named(hub: Hub) -> None:
    with tampering(hub.engine) as db:
        victim = _event_at(db, 6)
        db.execute(text("DELETE FROM audit_chain WHERE seq = 6"))
        db.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": victim})

    problem = _verify(hub).problem

    assert problem is not None
    assert (problem.kind, problem.seq) == ("deleted", 6)


def test_a_deletion_hidden_by_renumbering_is_named(hub: Hub) -> None:
    with tampering(hub.engine) as db:
        victim = _event_at(db, 6)
        db.execute(text("DELETE FROM audit_chain WHERE seq = 6"))
        db.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": victim})
        _shift(db, 7, -1)

    problem = _verify(hub).problem

    assert problem is not None
    assert (problem.kind, problem.seq) == ("deleted", 6)
    assert "before event" in problem.message


def test_a_well_formed_inserted_event_is_named(hub: Hub) -> None:
    forged = build_event(EventKind.SUBJECT_VIEW, subject_id="S-forged", decision="permit").values
    with tampering(hub.engine) as db:
        new_id = db.execute(
            insert(AuditEvent).values(**forged).returning(EVENT_COLUMNS[0])
        ).scalar()
        assert new_id is not None
        _shift(db, 5, 1)
        prev = _entry(db, 4)
        db.execute(
            text(
                "INSERT INTO audit_chain (seq, event_id, prev_hash, entry_hash)"
                " VALUES (5, :e, :p, :h)"
            ),
            {"e": new_id, "p": prev, "h": _leaf_of(db, new_id, prev)},
        )

    problem = _verify(hub).problem

    assert problem is not None
    assert (problem.kind, problem.seq, problem.event_id) == ("inserted", 5, new_id)


def test_an_event_outside_the_chain_is_named(hub: Hub) -> None:
    forged = build_event(EventKind.SUBJECT_VIEW, subject_id="S-forged", decision="permit").values
    with tampering(hub.engine) as db:
        new_id = db.execute(
            insert(AuditEvent).values(**forged).returning(EVENT_COLUMNS[0])
        ).scalar()

    problem = _verify(hub).problem

    assert problem is not None
    assert (problem.kind, problem.event_id) == ("inserted", new_id)


def test_reordered_rows_are_named(hub: Hub) -> None:
    with tampering(hub.engine) as db:
        moved = _event_at(db, 6)
        db.execute(text("UPDATE audit_chain SET seq = -1 WHERE seq = 5"))
        db.execute(text("UPDATE audit_chain SET seq = 5 WHERE seq = 6"))
        db.execute(text("UPDATE audit_chain SET seq = 6 WHERE seq = -1"))

    problem = _verify(hub).problem

    assert problem is not None
    assert (problem.kind, problem.seq, problem.event_id) == ("reordered", 5, moved)


def test_a_wholesale_rewrite_is_caught_by_the_signed_heads(hub: Hub) -> None:
    with tampering(hub.engine) as db:
        db.execute(
            text("UPDATE audit_event SET decision = 'permit' WHERE id = :i"),
            {"i": _event_at(db, 5)},
        )
        prev = _entry(db, 4)
        for seq in range(5, EVENTS + 1):  # recompute every later link, as a careful forger would
            entry = _leaf_of(db, _event_at(db, seq), prev)
            db.execute(
                text("UPDATE audit_chain SET prev_hash = :p, entry_hash = :h WHERE seq = :s"),
                {"p": prev, "h": entry, "s": seq},
            )
            prev = entry

    problem = _verify(hub).problem

    assert problem is not None
    assert (problem.kind, problem.seq) == ("rewritten", 5)


def test_a_forged_tree_head_is_named(hub: Hub) -> None:
    with tampering(hub.engine) as db:
        db.execute(
            text("UPDATE audit_tree_head SET root_hash = :r WHERE tree_size = 8"), {"r": bytes(32)}
        )

    problem = _verify(hub).problem

    assert problem is not None
    assert problem.kind == "bad_signature"
    assert "size 8" in problem.message


def test_a_truncated_tail_is_named(hub: Hub) -> None:
    with tampering(hub.engine) as db:
        db.execute(
            text(
                "DELETE FROM audit_event"
                " WHERE id IN (SELECT event_id FROM audit_chain WHERE seq > 10)"
            )
        )
        db.execute(text("DELETE FROM audit_chain WHERE seq > 10"))

    problem = _verify(hub).problem

    assert problem is not None
    assert (problem.kind, problem.seq) == ("truncated", 11)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET purpose = 'treatment'",
        "DELETE FROM audit_event",
        "UPDATE audit_chain SET entry_hash = prev_hash",
        "DELETE FROM audit_chain WHERE seq = 3",
        "UPDATE audit_tree_head SET tree_size = 1",
        "DELETE FROM audit_tree_head",
    ],
)
def test_the_database_refuses_to_change_the_log(hub: Hub, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), hub.engine.begin() as db:
        db.execute(text(statement))

    assert _verify(hub).intact


@pytest.mark.postgres
def test_postgres_refuses_to_truncate_the_log(postgres_database_url: str) -> None:
    for hub in quiet_hub(postgres_database_url):
        with pytest.raises(DBAPIError, match="append-only"), hub.engine.begin() as db:
            db.execute(text("TRUNCATE audit_event"))


def test_the_http_route_reports_the_first_problem(hub: Hub) -> None:
    hub.user("ann", "auditor", "county")
    with tampering(hub.engine) as db:
        victim = _event_at(db, 3)
        db.execute(text("UPDATE audit_event SET agency = 'fire' WHERE id = :i"), {"i": victim})

    body = hub.client.get("/v1/audit/verify", headers=hub.auth("ann")).json()

    assert body["intact"] is False
    assert body["problem"]["kind"] == "altered"
    assert body["problem"]["event_id"] == victim
    assert f"event {victim} (seq 3) was altered" in body["problem"]["message"]


def test_the_cli_exits_0_only_when_intact(
    hub: Hub, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "hub.pub"
    key_file.write_text(public_pem(TreeHeadSigner(parse_private_key(DEV_SIGNING_SEED)).public_key))
    argv = ["audit", "verify", "--database-url", database_url, "--public-key", str(key_file)]

    assert main(argv) == 0
    assert "intact" in capsys.readouterr().err

    with tampering(hub.engine) as db:
        victim = _event_at(db, 9)
        db.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": victim})

    assert main(argv) == 1
    assert f"event {victim} (seq 9) was deleted" in capsys.readouterr().err


def test_the_cli_refuses_heads_signed_by_another_key(
    hub: Hub, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = TreeHeadSigner(parse_private_key("11" * 32)).public_key
    key_file = tmp_path / "other.pub"
    key_file.write_text(other.public_bytes_raw().hex())

    status = main(
        ["audit", "verify", "--database-url", database_url, "--public-key", str(key_file)]
    )

    assert status == 1
    assert "is not signed by key" in capsys.readouterr().err


def test_the_cli_checks_the_configured_database_without_options(
    hub: Hub, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CROSSWALK_DATABASE_URL", database_url)
    monkeypatch.setenv("CROSSWALK_ENVIRONMENT", "development")

    assert main(["audit", "verify", "--json"]) == 0
    assert '"intact": true' in capsys.readouterr().out
