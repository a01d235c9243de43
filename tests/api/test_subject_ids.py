"""Subject ids the hub mints cannot be computed, and probing an id is audited (issue 11, item 2).

Ids used to be an unkeyed SHA-256 of one member's agency and record id, so a
responder who knew an agency's record-number format could compute ids and read
subjects nobody had resolved for them. They are now keyed with a key the hub
derives from its master key. A view of an id that matches no live record is
answered as a subject showing this user nothing, and written to the audit log
as a denial like any other attempt — through HTTP, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from linkage.encode.keys import LinkageSecret
from linkage.match.subject_key import SubjectIdKey, is_subject_id
from linkage.records import EncodedRecord
from tests.api.hub import Hub, encode_rows, make_settings, open_hub, read_rows

AGENCY = "police_cad"
PURPOSE = "crisis_response"
#: Has a minted id's shape (``S-`` and 16 hex digits) but names no subject.
UNKNOWN = "S-" + "ab" * 8


def _unkeyed(agency: str, record_id: str) -> str:
    """The id the unkeyed formula gave before issue 11: what anyone could compute."""
    return "S-" + hashlib.sha256(f"{agency}\x1f{record_id}\x1e0".encode()).hexdigest()[:16]


@pytest.fixture
def records(secret: LinkageSecret, fixtures_dir: Path) -> list[EncodedRecord]:
    """Three encoded police records (no context needed here)."""
    rows = read_rows(fixtures_dir / "synthetic" / "small" / f"{AGENCY}.csv")[:3]
    encoded = encode_rows(secret, AGENCY, rows)
    for record in encoded:
        record.context.clear()
    return encoded


def _stock(hub: Hub, records: list[EncodedRecord]) -> dict[str, str]:
    """Users, and the records submitted: record id → the subject id the hub gave it."""
    hub.user("st-police", "data_steward", AGENCY)
    hub.user("medic", "ems_medic", "ems")
    hub.user("auditor", "auditor", "program")
    response = hub.submit("st-police", records)
    assert response.status_code == 200, response.text
    return {r["record_id"]: r["subject_id"] for r in response.json()["records"]}


@pytest.fixture
def stocked(hub: Hub, records: list[EncodedRecord]) -> tuple[Hub, dict[str, str]]:
    """A hub on each backend with three submitted records (no model: one subject each)."""
    return hub, _stock(hub, records)


def _view(hub: Hub, subject_id: str) -> Any:
    return hub.client.get(
        f"/v1/subjects/{subject_id}", params={"purpose": PURPOSE}, headers=hub.auth("medic")
    )


def _events(hub: Hub, **params: Any) -> list[dict[str, Any]]:
    response = hub.client.get("/v1/audit/events", params=params, headers=hub.auth("auditor"))
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return [e for e in events if e["kind"] != "audit.access"]


def _without_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "subject_id"}


def test_a_subject_id_cannot_be_computed_from_agency_and_record_id(
    stocked: tuple[Hub, dict[str, str]],
) -> None:
    hub, subjects = stocked
    assert all(is_subject_id(s) for s in subjects.values())
    computed = {record_id: _unkeyed(AGENCY, record_id) for record_id in subjects}
    assert not set(computed.values()) & set(subjects.values())

    record_id = next(iter(subjects))
    guessed, real = _view(hub, computed[record_id]), _view(hub, subjects[record_id])
    assert guessed.status_code == real.status_code == 200
    assert _without_id(guessed.json()) == _without_id(real.json())
    assert guessed.json()["agencies"] == []


def test_ids_are_keyed_with_the_hubs_master_key(stocked: tuple[Hub, dict[str, str]]) -> None:
    hub, subjects = stocked
    key = SubjectIdKey.from_root(hub.settings.master_key_bytes())
    assert subjects == {r: key.subject_id((AGENCY, r)) for r in subjects}


@contextmanager
def _hub(url: str, master_key: str) -> Iterator[Hub]:
    yield from open_hub(make_settings(url, master_key=master_key))


def test_hubs_with_different_keys_name_the_same_records_differently(
    tmp_path: Path, records: list[EncodedRecord]
) -> None:
    key, other_key = secrets.token_hex(32), secrets.token_hex(32)
    named = []
    for name, master in (("one", key), ("again", key), ("other", other_key)):
        with _hub(f"sqlite:///{tmp_path / name}.db", master) as hub:
            named.append(_stock(hub, records))
    one, again, other = named
    assert one == again  # same records, same key: same ids
    assert not set(one.values()) & set(other.values())


def test_viewing_an_unknown_subject_is_audited_and_answered_as_one_showing_nothing(
    stocked: tuple[Hub, dict[str, str]],
) -> None:
    hub, subjects = stocked
    real, probe = _view(hub, next(iter(subjects.values()))), _view(hub, UNKNOWN)

    assert probe.status_code == real.status_code == 200
    assert probe.json()["subject_id"] == UNKNOWN
    assert _without_id(probe.json()) == _without_id(real.json())
    [event] = _events(hub, kind="subject.view", subject_id=UNKNOWN)
    assert event["decision"] == "deny"
    assert event["details"] == {"cause": "unknown_subject"}
    assert (event["actor_username"], event["purpose"]) == ("medic", PURPOSE)
    assert event["categories"] == event["withheld"] == []
    assert event["request_id"] == probe.headers["x-request-id"]


def test_an_unknown_id_that_could_be_an_identifier_is_audited_without_it(
    stocked: tuple[Hub, dict[str, str]],
) -> None:
    hub, _ = stocked
    typed = "123-45-6789"  # an SSN typed where a subject id goes
    probe = _view(hub, typed)

    assert probe.status_code == 200
    assert probe.json()["agencies"] == []
    [event] = _events(hub, kind="subject.view", user="medic")
    assert event["subject_id"] is None
    assert event["details"] == {"cause": "unknown_subject", "subject_id": "not_logged"}
    export = hub.client.get(
        "/v1/audit/events/export", params={"format": "jsonl"}, headers=hub.auth("auditor")
    )
    assert export.status_code == 200
    assert typed not in export.text
    assert typed.replace("-", "") not in export.text


def test_break_glass_on_an_unknown_subject_is_refused_like_one_without_a_rule(
    stocked: tuple[Hub, dict[str, str]],
) -> None:
    hub, subjects = stocked
    body = {"purpose": "emergency", "reason": "patient unresponsive"}
    answers = [
        hub.client.post(f"/v1/subjects/{s}/break-glass", json=body, headers=hub.auth("medic"))
        for s in (next(iter(subjects.values())), UNKNOWN)
    ]

    assert [a.status_code for a in answers] == [403, 403]
    assert answers[0].json()["detail"] == answers[1].json()["detail"]
    [event] = _events(hub, kind="subject.break_glass", subject_id=UNKNOWN)
    assert (event["decision"], event["details"]) == ("deny", {"cause": "unknown_subject"})
