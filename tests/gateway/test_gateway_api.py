"""The gateway's JSON API against a live hub: plaintext in, the hub's answers out.

Every test runs with the hub on SQLite and on PostgreSQL; hub and gateway are
both served on localhost (uvicorn), the gateway started per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.program import Program, read_export, running_program
from tests.live import free_port


@pytest.fixture
def program(database_url: str, tmp_path: Path, fixtures_dir: Path) -> Iterator[Program]:
    """The test program, every agency synced."""
    with running_program(database_url, tmp_path, fixtures_dir) as running:
        yield running


def _person(program: Program, agency: str = "police_cad", index: int = 3) -> dict[str, str]:
    row = read_export(program.exports[agency])[index]
    fields = ("given_name", "family_name", "birth_date", "sex", "street_address", "city")
    return {f: row[f] for f in fields if row[f]}


def _resolve(client: Any, program: Program, user: str, query: dict[str, str], **params: str) -> Any:
    return client.post("/api/resolve", json=query, headers=program.auth(user), params=params)


def test_resolve_answers_the_hubs_candidates_with_own_agency_plaintext(program: Program) -> None:
    query = _person(program)
    with program.gateway("police_cad") as gateway:
        response = _resolve(gateway, program, "officer", query, purpose="crisis_response")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["candidates"], "the person is in the police export: the hub must find them"
    best, aids = body["candidates"][0], body["confirmation"][0]
    assert set(best) >= {"subject_id", "match_probability", "zone"}
    assert aids["subject_id"] == best["subject_id"]
    assert aids["zone_words"] in {"match", "possible match", "unlikely match"}
    own = [r for r in aids["own_records"] if r["family_name"] == query["family_name"]]
    assert own, "the police record's own plaintext confirms the person to a police user"


def test_the_subject_view_passes_through_unchanged(program: Program) -> None:
    with program.gateway("police_cad") as gateway:
        found = _resolve(gateway, program, "officer", _person(program)).json()
        subject = found["candidates"][0]["subject_id"]
        through = gateway.get(
            f"/api/subjects/{subject}", params={"purpose": "crisis_response"},
            headers=program.auth("officer"),
        )  # fmt: skip
    direct = httpx.get(
        f"{program.hub_url}/v1/subjects/{subject}", params={"purpose": "crisis_response"},
        headers=program.auth("officer"),
    )  # fmt: skip

    assert through.status_code == direct.status_code == 200
    assert through.json() == direct.json()


def test_break_glass_passes_through(program: Program) -> None:
    with program.gateway("ems") as gateway:
        found = _resolve(gateway, program, "medic", _person(program)).json()
        subject = found["candidates"][0]["subject_id"]
        body = {"purpose": "emergency", "reason": "unresponsive on scene"}
        response = gateway.post(
            f"/api/subjects/{subject}/break-glass", json=body, headers=program.auth("medic")
        )

    assert response.status_code in (201, 403), response.text  # as the policy says
    assert "detail" in response.json() or "expires_at" in response.json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"given_name": "Maria", "nickname": "Mari"}, "nickname"),
        ({"family_name": "Lopez", "birth_date": "31/31/1987"}, "birth_date"),
        ({"sex": "F", "city": "Larkin"}, None),  # neither a name nor a date
        ({"given_name": "x" * 500}, "given_name"),
    ],
    ids=["unknown-field", "bad-date", "no-name-or-date", "too-long"],
)
def test_bad_input_is_a_422_naming_the_field_never_its_value(
    program: Program, query: dict[str, str], field: str | None
) -> None:
    with program.gateway("police_cad") as gateway:
        response = _resolve(gateway, program, "officer", query)

    assert response.status_code == 422, response.text
    if field is not None:
        assert field in response.text
    for value in query.values():
        assert value not in response.text


def test_a_wrong_token_is_the_hubs_401_and_no_token_is_refused_here(program: Program) -> None:
    with program.gateway("police_cad") as gateway:
        wrong = gateway.post(
            "/api/resolve", json=_person(program), headers={"Authorization": "Bearer cw_nope"}
        )
        missing = gateway.post("/api/resolve", json=_person(program))

    assert wrong.status_code == 401
    assert missing.status_code == 401


def test_a_hub_that_is_down_is_a_503_saying_so(program: Program) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # no hub listens there
    with program.gateway("police_cad", hub_url=nobody, hub_timeout_seconds=1.0) as gateway:
        response = _resolve(gateway, program, "officer", _person(program))

    assert response.status_code == 503
    assert "hub" in response.json()["detail"]
