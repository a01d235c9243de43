"""Refused tokens write at most one ``auth.failure`` event per client a minute, with a count.

Issue #11, finding 13b: every unauthenticated request was a permanent audit row.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from api.hub.audit.throttle import AuthFailureThrottle
from tests.api.hub import Hub

FORGED = {"Authorization": "Bearer cw_forged"}


def _failures(hub: Hub) -> list[dict[str, Any]]:
    with hub.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT client, details FROM audit_event WHERE kind = 'auth.failure' ORDER BY id")
        ).all()
    return [{"client": client, **json.loads(details)} for client, details in rows]


def test_a_burst_of_refusals_is_one_event_then_one_with_the_count(hub: Hub) -> None:
    now = [1000.0]
    hub.services.auth_failures.clock = lambda: now[0]

    statuses = [hub.client.get("/v1/me", headers=FORGED).status_code for _ in range(5)]
    during = _failures(hub)
    now[0] += 61
    hub.client.get("/v1/me")  # a minute on: one event for it and the four held back

    assert statuses == [401] * 5
    assert [e["count"] for e in during] == [1]
    after = _failures(hub)
    assert [e["count"] for e in after] == [1, 5]
    assert after[1]["cause"] == "missing_token"


def test_each_client_has_its_own_window() -> None:
    throttle = AuthFailureThrottle(window_seconds=60, clock=lambda: 0.0)

    assert [throttle.admit(c) for c in ("10.0.0.1", "10.0.0.2", "10.0.0.1", None)] == [
        1,
        1,
        None,
        1,
    ]
    assert throttle.drain() == [("10.0.0.1", 1)]


def test_past_its_bound_the_throttle_holds_nothing_back() -> None:
    throttle = AuthFailureThrottle(window_seconds=60, max_clients=2, clock=lambda: 0.0)

    assert [throttle.admit(c) for c in ("a", "b", "c", "c")] == [1, 1, 1, 1]
