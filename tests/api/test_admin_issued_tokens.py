"""A token an admin mints for someone else is marked, and every act done with it says who minted it.

Issue #11, finding 8: an admin could issue a token for any user, read as them,
and be logged under the victim's name alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from api.cli import main
from linkage.encode.keys import LinkageSecret
from tests.api.hub import Hub
from tests.api.policy_setup import PolicyHub, build_policy_hub


@pytest.fixture
def ph(hub: Hub, secret: LinkageSecret, fixtures_dir: Path) -> PolicyHub:
    """The default policy, one subject, and an admin."""
    built = build_policy_hub(hub, secret, fixtures_dir)
    hub.user("root", "admin", "county")
    return built


def _views_by(hub: Hub, username: str) -> list[dict[str, Any]]:
    with hub.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT actor_username, details FROM audit_event"
                " WHERE kind = 'subject.view' AND actor_username = :u ORDER BY id"
            ),
            {"u": username},
        ).all()
    return [{"actor": actor, **json.loads(details)} for actor, details in rows]


def test_a_view_with_an_admin_issued_token_names_the_issuing_admin(ph: PolicyHub) -> None:
    hub = ph.hub
    response = hub.client.post("/v1/admin/users/officer/tokens", headers=hub.auth("root"))
    assert response.status_code == 201, response.text
    minted = {"Authorization": f"Bearer {response.json()['token']}"}

    seen = hub.client.get(f"/v1/subjects/{ph.subject_id}?purpose=public_safety", headers=minted)

    assert seen.status_code == 200, seen.text
    events = _views_by(hub, "officer")
    assert events
    assert {e.get("token_issued_by") for e in events} == {"root"}


def test_the_officers_own_token_is_not_marked(ph: PolicyHub) -> None:
    ph.view("officer", "public_safety")

    events = _views_by(ph.hub, "officer")
    assert events
    assert all("token_issued_by" not in e for e in events)


def test_a_cli_issued_token_is_marked_cli(
    ph: PolicyHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = ph.hub
    monkeypatch.setenv("CROSSWALK_ENVIRONMENT", "development")
    url = hub.settings.database_url
    assert main(["admin", "--database-url", url, "issue-token", "officer"]) == 0
    token = capsys.readouterr().out.strip()

    seen = hub.client.get(
        f"/v1/subjects/{ph.subject_id}?purpose=public_safety",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert seen.status_code == 200, seen.text
    assert {e.get("token_issued_by") for e in _views_by(hub, "officer")} == {"cli"}
