"""Forwarded headers are believed only from configured proxies, and never fail a request.

Issue #11, finding 13a: uvicorn believes ``X-Forwarded-For`` from loopback by
default, so anything on the host could choose the client address its audit
events record; and a malformed forwarded address made every request a 422
(the audit guard refused it).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import text
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.cli import main
from tests.api.hub import Hub


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """``crosswalk serve``'s uvicorn arguments, without serving (signal handlers restored)."""
    captured: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: captured.update(kwargs))
    monkeypatch.setenv("CROSSWALK_ENVIRONMENT", "development")
    monkeypatch.setenv("CROSSWALK_AUDIT_SEAL_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("CROSSWALK_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.db'}")
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield captured
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def test_serve_believes_no_forwarded_headers_by_default(served: dict[str, Any]) -> None:
    assert main(["serve"]) == 0

    assert served["proxy_headers"] is False


def test_serve_believes_the_configured_proxies_only(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSWALK_TRUSTED_PROXIES", "10.0.0.7,10.0.1.0/24")

    assert main(["serve"]) == 0

    assert served["proxy_headers"] is True
    assert served["forwarded_allow_ips"] == "10.0.0.7,10.0.1.0/24"


@pytest.mark.parametrize("forwarded", ["not an address!", "<script>", "a" * 100, "1.2.3.4; drop"])
def test_a_malformed_forwarded_address_never_fails_a_request(hub: Hub, forwarded: str) -> None:
    hub.user("ada", "auditor", "county")
    behind_a_proxy = TestClient(ProxyHeadersMiddleware(hub.client.app, trusted_hosts="*"))
    headers = {"X-Forwarded-For": forwarded}

    anonymous = behind_a_proxy.get("/v1/me", headers=headers)
    known = behind_a_proxy.get("/v1/me", headers={**headers, **hub.auth("ada")})

    assert anonymous.status_code == 401, anonymous.text
    assert known.status_code == 200, known.text
    with hub.engine.connect() as connection:
        clients = connection.execute(
            text("SELECT client FROM audit_event WHERE kind = 'auth.failure'")
        ).scalars()
        assert list(clients) == [None]


def test_a_well_formed_forwarded_address_from_a_trusted_proxy_is_recorded(hub: Hub) -> None:
    behind_a_proxy = TestClient(ProxyHeadersMiddleware(hub.client.app, trusted_hosts="*"))

    assert (
        behind_a_proxy.get("/v1/me", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 401
    )

    with hub.engine.connect() as connection:
        client = connection.execute(
            text("SELECT client FROM audit_event WHERE kind = 'auth.failure'")
        ).scalar_one()
    assert client == "203.0.113.9"
