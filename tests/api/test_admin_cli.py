"""``crosswalk admin``: scriptable identity administration against SQLite and PostgreSQL.

The CLI runs in-process through :func:`api.cli.main` with ``--database-url``
pointing at a fresh database of each backend (the ``database_url`` fixture);
tokens it issues are then tried against an app on the same database.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from api.cli import main
from api.hub.settings import Settings
from tests.api.hub import Hub, open_hub

MASTER_KEY = secrets.token_hex(32)
TOKEN = re.compile(r"cw_[A-Za-z0-9_-]{43}")


@pytest.fixture(autouse=True)
def production_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A production configuration with a real master key; no database URL from outside."""
    monkeypatch.setenv("CROSSWALK_ENVIRONMENT", "production")
    monkeypatch.setenv("CROSSWALK_MASTER_KEY", MASTER_KEY)
    monkeypatch.delenv("CROSSWALK_DATABASE_URL", raising=False)


def admin(database_url: str, *argv: str) -> int:
    """Run ``crosswalk admin --database-url URL ARGV…``."""
    return main(["admin", "--database-url", database_url, *argv])


def ok(capsys: pytest.CaptureFixture[str], database_url: str, *argv: str) -> str:
    """Run a verb that must succeed; returns its standard output."""
    status = admin(database_url, *argv)
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


@pytest.fixture
def hub_on(database_url: str) -> Iterator[Hub]:
    """An app on the CLI's database, with the same master key."""
    settings = Settings(
        database_url=database_url, environment="production", master_key=SecretStr(MASTER_KEY)
    )
    yield from open_hub(settings)


def _with_user(capsys: pytest.CaptureFixture[str], url: str, role: str = "admin") -> str:
    """Create agency ``county`` and user ``ada``; returns a token issued for her."""
    ok(capsys, url, "create-agency", "county")
    ok(capsys, url, "create-user", "ada", "--role", role, "--agency", "county")
    return ok(capsys, url, "issue-token", "ada", "--expires-in", "2")


def test_issue_token_prints_only_the_token(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    ok(capsys, database_url, "create-agency", "county")
    ok(capsys, database_url, "create-user", "ada", "--role", "admin", "--agency", "county")

    status = admin(database_url, "issue-token", "ada")
    out, err = capsys.readouterr()

    assert status == 0
    assert TOKEN.fullmatch(out.removesuffix("\n")), out
    assert out.count("\n") == 1
    assert TOKEN.search(err) is None


def test_the_other_verbs_report_on_stderr_only(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    verbs = [
        ("create-agency", "county"),
        ("create-user", "ada", "--role", "auditor", "--agency", "county"),
        ("create-user", "sgt", "--role", "police_officer", "--agency", "county", "--cjis"),
        ("set-cjis", "sgt", "off"),
        ("revoke-token", "ada"),
    ]
    for verb in verbs:
        status = admin(database_url, *verb)
        out, err = capsys.readouterr()

        assert (status, out) == (0, ""), verb
        assert err.count("\n") == 1, verb


def test_an_issued_token_authenticates_until_revoked(
    capsys: pytest.CaptureFixture[str], database_url: str, hub_on: Hub
) -> None:
    token = _with_user(capsys, database_url).strip()
    headers = {"Authorization": f"Bearer {token}"}
    before = hub_on.client.get("/v1/admin/clusters", headers=headers)

    ok(capsys, database_url, "revoke-token", "ada")
    # The server is another process: it hears of the revocation at its next poll.
    deadline = time.monotonic() + hub_on.settings.token_cache_seconds + 0.5
    after = hub_on.client.get("/v1/admin/clusters", headers=headers)
    while after.status_code != 401 and time.monotonic() < deadline:
        time.sleep(0.02)
        after = hub_on.client.get("/v1/admin/clusters", headers=headers)

    assert before.status_code == 200
    assert after.status_code == 401


def test_the_token_carries_the_users_role(
    capsys: pytest.CaptureFixture[str], database_url: str, hub_on: Hub
) -> None:
    token = _with_user(capsys, database_url, role="police_officer").strip()

    response = hub_on.client.get("/v1/admin/clusters", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 403


def test_an_empty_store_exports_only_the_header(
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "clusters.csv"

    out = ok(capsys, database_url, "export-clusters", "-o", str(target))

    assert out == ""
    assert target.read_text(encoding="utf-8").splitlines() == [
        "agency,record_id,subject_id,match_probability"
    ]


REFUSED = [
    pytest.param(("create-user", "bob", "--role", "sheriff", "--agency", "county"), id="bad-role"),
    pytest.param(("create-user", "bob", "--role", "auditor", "--agency", "nope"), id="no-agency"),
    pytest.param(("create-agency", "county"), id="duplicate-agency"),
    pytest.param(("create-agency", "County Police"), id="bad-agency-name"),
    pytest.param(("issue-token", "nobody"), id="issue-unknown-user"),
    pytest.param(("revoke-token", "nobody"), id="revoke-unknown-user"),
    pytest.param(("issue-token", "ada", "--expires-in", "0"), id="zero-lifetime"),
]


@pytest.mark.parametrize("argv", REFUSED)
def test_refused_input_exits_2_with_one_line_and_no_traceback(
    capsys: pytest.CaptureFixture[str], database_url: str, argv: tuple[str, ...]
) -> None:
    ok(capsys, database_url, "create-agency", "county")
    ok(capsys, database_url, "create-user", "ada", "--role", "auditor", "--agency", "county")

    status = admin(database_url, *argv)
    out, err = capsys.readouterr()

    assert status == 2
    assert out == ""
    assert err.startswith("crosswalk admin: error: ")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err


def test_an_unknown_role_is_refused_naming_the_roles(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    ok(capsys, database_url, "create-agency", "county")

    admin(database_url, "create-user", "bob", "--role", "sheriff", "--agency", "county")

    assert "police_officer" in capsys.readouterr().err


SETTINGS_REFUSED = [
    pytest.param({"CROSSWALK_MASTER_KEY": None}, id="no-master-key"),
    pytest.param({"CROSSWALK_MASTER_KEY": "00" * 32}, id="weak-master-key"),
    pytest.param({"CROSSWALK_ENVIRONMENT": "staging"}, id="unknown-environment"),
]


@pytest.mark.parametrize("environ", SETTINGS_REFUSED)
def test_refused_settings_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    environ: dict[str, str | None],
) -> None:
    for name, value in environ.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)

    status = admin(f"sqlite:///{tmp_path / 'hub.db'}", "create-agency", "county")
    out, err = capsys.readouterr()

    assert status == 2
    assert out == ""
    assert err.startswith("crosswalk admin: error: ")
    assert err.count("\n") == 1, err
    assert MASTER_KEY not in err


def test_cjis_authorisation_from_the_cli(
    capsys: pytest.CaptureFixture[str], database_url: str, hub_on: Hub
) -> None:
    ok(capsys, database_url, "create-agency", "county")
    ok(capsys, database_url, "create-user", "sgt", "--role", "police_officer", "--agency",
       "county", "--cjis")  # fmt: skip
    ok(capsys, database_url, "create-user", "cadet", "--role", "police_officer", "--agency",
       "county")  # fmt: skip
    ok(capsys, database_url, "set-cjis", "cadet", "on")
    ok(capsys, database_url, "set-cjis", "sgt", "off")
    refused = admin(database_url, "set-cjis", "nobody", "on")
    capsys.readouterr()

    with hub_on.engine.connect() as connection:
        stored = dict(
            connection.execute(text("SELECT username, cjis_authorized FROM app_user")).all()
        )
    assert {name: bool(value) for name, value in stored.items()} == {"sgt": False, "cadet": True}
    assert refused != 0
