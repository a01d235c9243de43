"""Every integer path or query parameter of every /v1 route: out-of-range values are no 5xx.

The routes and their integer parameters are read from the app itself, so a new
route is covered without touching this file (a new one with a body needs a
minimal body in :data:`BODIES`). Each parameter gets 2^63 (beyond ``BIGINT``),
2^31 (beyond ``INTEGER``) and -1, with every other integer parameter at 1, and
a token of several roles (one that may call it among them): none may answer
5xx, and 2^63 is a 422 for whoever may call the route.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.hub.app import create_app
from policy.vocabulary import Role
from tests.api.hub import Hub, make_settings

OUT_OF_RANGE = (2**63, 2**31, -1)

#: A minimal valid body for each route that has integer parameters and a body:
#: without one the body's 422 would hide whatever the integer does.
BODIES: dict[str, dict[str, Any]] = {
    "/v1/linkage/review/{item_id}": {"decision": "same"},
    "/v1/audit/break-glass/{event_id}/review": {"note": "reviewed"},
}

ROLES = (Role.ADMIN, Role.AUDITOR, Role.LINKAGE_REVIEWER, Role.PRIVACY_OFFICER)


def _is_int(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return any(option.get("type") == "integer" for option in options)


def integer_parameters() -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """``(method, path, parameter, every integer parameter as (where, name))`` of /v1 routes.

    Read from the app's OpenAPI document: what the app declares is what it parses.
    """
    document = create_app(make_settings("sqlite://"), migrate=False).openapi()
    found = []
    for path, operations in document["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, operation in operations.items():
            params = [
                (p["in"], p["name"])
                for p in operation.get("parameters", [])
                if p["in"] in ("path", "query") and _is_int(p["schema"])
            ]
            if operation.get("requestBody", {}).get("required") and params:
                assert path in BODIES, f"add a minimal body for {method.upper()} {path}"
            found += [(method.upper(), path, name, params) for _, name in params]
    return found


CASES = integer_parameters()


def test_the_routes_with_integer_parameters_are_found() -> None:
    names = {(path, name) for _, path, name, _ in CASES}
    assert ("/v1/linkage/runs/{run_id}", "run_id") in names
    assert ("/v1/audit/events", "before_id") in names
    assert ("/v1/audit/proofs/consistency", "first") in names
    assert ("/v1/policies/diff", "from") in names
    assert len(names) >= 15


def _request(
    client: TestClient, hub: Hub, case: tuple[str, str, str, list[tuple[str, str]]], value: int
) -> list[int]:
    method, path, name, params = case
    url, query = path, {}
    for where, other in params:
        given = value if other == name else 1
        if where == "path":
            url = url.replace("{" + other + "}", str(given))
        else:
            query[other] = str(given)
    statuses = []
    for role in ROLES:
        response = client.request(
            method, url, params=query, json=BODIES.get(path), headers=hub.auth(role.value)
        )
        statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize("case", CASES, ids=[f"{m} {p} {n}" for m, p, n, _ in CASES])
def test_an_out_of_range_integer_is_a_client_error(
    hub: Hub, case: tuple[str, str, str, list[tuple[str, str]]]
) -> None:
    for role in ROLES:
        hub.user(role.value, role.value, "county")
    client = TestClient(hub.client.app, raise_server_exceptions=False)
    for value in OUT_OF_RANGE:
        statuses = _request(client, hub, case, value)
        assert all(s < 500 for s in statuses), (value, statuses)
    # Beyond any column: refused by validation (for whoever may call the route at all).
    assert 422 in _request(client, hub, case, 2**63)
