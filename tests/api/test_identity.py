"""Identity through HTTP: who may call what, and how tokens live and die.

Every route the app serves is enumerated from ``app.routes`` at collection time,
so a route added later is checked for authentication without anyone remembering
to list it here. Each test runs on SQLite and on PostgreSQL (the ``hub`` fixture).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from api.hub.deps import CurrentUser
from api.hub.identity.tokens import hash_token, new_token
from policy.vocabulary import Role
from tests.api.hub import Hub, make_settings, open_hub, served_routes

#: Routes any caller may reach. FastAPI's own documentation pages (``/redoc`` and
#: the Swagger OAuth redirect) are public along with ``/docs``.
PUBLIC_PATHS = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/openapi.json",
    "/redoc",
    "/docs/oauth2-redirect",
}
_PATH_PARAM = re.compile(r"\{[^}]+\}")


SERVED = served_routes()
PROTECTED = [(m, _PATH_PARAM.sub("1", p)) for m, p in SERVED if p not in PUBLIC_PATHS]


#: The users of :func:`shared_hub`, by role.
SHARED_USERS = {
    "root": "admin",
    "officer": "police_officer",
    "steward": "data_steward",
    "reviewer": "linkage_reviewer",
}


def _with_users(url: str) -> Iterator[Hub]:
    for hub in open_hub(make_settings(url)):
        for username, role in SHARED_USERS.items():
            hub.user(username, role, "county")
        yield hub


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def shared_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One hub per backend, with a user of each role, for calls that change nothing.

    Refused calls (401, 403, 404, 422) leave the store as it was, so they share a hub;
    a fresh one per case would cost a migration each.
    """
    if request.param == "sqlite":
        yield from _with_users(f"sqlite:///{tmp_path_factory.mktemp('shared')}/hub.db")
        return
    base = request.getfixturevalue("postgres_url").replace(
        "postgresql://", "postgresql+psycopg://", 1
    )
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield from _with_users(f"{base}?options=-csearch_path%3D{schema}")
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _id(case: tuple[str, str]) -> str:
    return f"{case[0]} {case[1]}"


def test_the_route_enumeration_sees_the_whole_api() -> None:
    served_paths = {p for _, p in SERVED}
    assert served_paths >= PUBLIC_PATHS
    assert {("POST", "/v1/records"), ("POST", "/v1/admin/agencies")} <= set(PROTECTED)
    assert len(PROTECTED) >= 10


@pytest.mark.parametrize("path", sorted(PUBLIC_PATHS))
def test_public_routes_answer_without_a_token(shared_hub: Hub, path: str) -> None:
    response = shared_hub.client.get(path)

    assert response.status_code == 200, response.text


BAD_CREDENTIALS: dict[str, dict[str, str]] = {
    "no_header": {},
    "unknown_token": {"Authorization": f"Bearer {new_token()}"},
    "not_a_token": {"Authorization": "Bearer x"},
    "basic_scheme": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    "empty_bearer": {"Authorization": "Bearer "},
}


@pytest.mark.parametrize("credentials", list(BAD_CREDENTIALS), ids=list(BAD_CREDENTIALS))
@pytest.mark.parametrize("route", PROTECTED, ids=[_id(c) for c in PROTECTED])
def test_every_other_route_refuses_a_missing_or_wrong_token(
    shared_hub: Hub, route: tuple[str, str], credentials: str
) -> None:
    method, path = route

    response = shared_hub.client.request(method, path, headers=BAD_CREDENTIALS[credentials])

    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_wrong_token_is_refused_on_each_backend(hub: Hub) -> None:
    hub.user("ada", "admin", "county")
    wrong = {"Authorization": f"Bearer {new_token()}"}

    response = hub.client.post("/v1/admin/agencies", json={"name": "x"}, headers=wrong)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


_BRIEF_SECONDS = 1.0


def _wait_until_expired() -> None:
    """Tokens of ``_BRIEF_SECONDS`` are expired after this (whatever a server cached)."""
    time.sleep(_BRIEF_SECONDS + 0.05)


def _revoke(hub: Hub, username: str) -> None:
    response = hub.client.delete(f"/v1/admin/users/{username}/tokens", headers=hub.auth("root"))
    assert response.json() == {"revoked": 1}


def test_expired_revoked_and_unknown_tokens_are_refused_alike(hub: Hub) -> None:
    hub.user("root", "admin", "county")
    probe = {"name": "probe"}
    outcomes = {}
    for fate in ("expired", "revoked", "unknown"):
        days = _BRIEF_SECONDS / 86_400 if fate == "expired" else 30
        token = hub.user(f"u-{fate}", "admin", "county", days=days)
        assert (
            hub.client.get("/v1/admin/clusters", headers=hub.auth(f"u-{fate}")).status_code == 200
        )
        if fate == "expired":
            _wait_until_expired()
        elif fate == "revoked":
            _revoke(hub, f"u-{fate}")
        else:
            token = new_token()
        response = hub.client.post(
            "/v1/admin/agencies", json=probe, headers={"Authorization": f"Bearer {token}"}
        )
        outcomes[fate] = (
            response.status_code,
            response.json(),
            response.headers.get("www-authenticate"),
        )

    assert outcomes["expired"] == outcomes["revoked"] == outcomes["unknown"]
    status, body, challenge = outcomes["expired"]
    assert (status, challenge) == (401, "Bearer")
    assert "revoked" not in body["detail"]


def test_a_token_expires_on_its_own(hub: Hub) -> None:
    hub.user("brief", "admin", "county", days=1e-9)  # about 86 microseconds

    response = hub.client.get("/v1/admin/clusters", headers=hub.auth("brief"))

    assert response.status_code == 401


def test_revoking_leaves_other_users_tokens_alone(hub: Hub) -> None:
    hub.user("root", "admin", "county")
    hub.user("kept", "admin", "county")
    hub.user("gone", "admin", "county")

    _revoke(hub, "gone")

    assert hub.client.get("/v1/admin/clusters", headers=hub.auth("gone")).status_code == 401
    assert hub.client.get("/v1/admin/clusters", headers=hub.auth("kept")).status_code == 200


WRONG_ROLE = [
    pytest.param("officer", "POST", "/v1/admin/agencies", {"name": "x"}, id="officer-agency"),
    pytest.param("officer", "POST", "/v1/admin/users/officer/tokens", None, id="officer-token"),
    pytest.param("officer", "GET", "/v1/admin/clusters", None, id="officer-clusters"),
    pytest.param("steward", "POST", "/v1/admin/users", None, id="steward-user"),
    pytest.param("steward", "POST", "/v1/subjects/resolve", None, id="steward-resolve"),
    pytest.param("steward", "GET", "/v1/subjects/s1?purpose=x", None, id="steward-subject"),
    pytest.param("officer", "POST", "/v1/linkage/runs", None, id="officer-run"),
    pytest.param("steward", "GET", "/v1/linkage/runs/1", None, id="steward-run-status"),
    pytest.param("officer", "GET", "/v1/linkage/review", None, id="officer-review"),
    pytest.param("root", "GET", "/v1/linkage/review", None, id="admin-review"),
    pytest.param("root", "POST", "/v1/linkage/review/1", None, id="admin-decide"),
    pytest.param("officer", "POST", "/v1/records", None, id="officer-submit"),
    pytest.param("root", "DELETE", "/v1/records/r1", None, id="admin-retract"),
    pytest.param("reviewer", "POST", "/v1/subjects/resolve", None, id="reviewer-resolve"),
    pytest.param("officer", "GET", "/v1/subjects/s1/records", None, id="officer-members"),
]


@pytest.mark.parametrize(("who", "method", "path", "body"), WRONG_ROLE)
def test_a_role_without_the_right_is_forbidden(
    shared_hub: Hub, who: str, method: str, path: str, body: Any
) -> None:
    response = shared_hub.client.request(method, path, json=body, headers=shared_hub.auth(who))

    assert response.status_code == 403, response.text
    assert "WWW-Authenticate" not in response.headers


@pytest.fixture
def admin_hub(hub: Hub) -> Hub:
    """A hub with one admin, ``root``."""
    hub.user("root", "admin", "county")
    return hub


def _post(hub: Hub, path: str, body: Any) -> Any:
    return hub.client.post(path, json=body, headers=hub.auth("root"))


def test_an_admin_creates_an_agency_once(admin_hub: Hub) -> None:
    first = _post(admin_hub, "/v1/admin/agencies", {"name": "fire-dept"})
    again = _post(admin_hub, "/v1/admin/agencies", {"name": "fire-dept"})

    assert (first.status_code, first.json()) == (201, {"name": "fire-dept"})
    assert again.status_code == 409


def test_an_agency_the_admin_creates_is_one_its_privacy_officer_can_write_rules_for(
    admin_hub: Hub,
) -> None:
    """One agency-name rule: no agency is created that no policy rule could name."""
    assert _post(admin_hub, "/v1/admin/agencies", {"name": "county-bh"}).status_code == 201
    admin_hub.user("po-bh", "privacy_officer", "county-bh")
    rule = {
        "role": "bh_clinician",
        "category": "communication_needs",
        "purpose": "treatment",
        "condition": "always",
        "effect": "allow",
    }
    draft = admin_hub.client.post(
        "/v1/policies/drafts",
        json={"scope": "county-bh", "rules": [rule]},
        headers=admin_hub.auth("po-bh"),
    )

    assert draft.status_code == 201, draft.text


@pytest.mark.parametrize("name", ["county.bh", "9-one-one", "x" * 64])
def test_an_agency_name_no_rule_could_name_is_refused_at_creation(
    shared_hub: Hub, name: str
) -> None:
    response = _post(shared_hub, "/v1/admin/agencies", {"name": name})

    assert response.status_code == 422, response.text
    assert "agency name" in response.json()["detail"]


@pytest.mark.parametrize(
    "name",
    ["Fire Dept", "", "-leading-dash", "a/b", "x" * 65, "ünïcode", "drop;table"],
    ids=["upper-space", "empty", "leading-dash", "slash", "too-long", "non-ascii", "semicolon"],
)
def test_an_agency_name_must_be_a_short_slug(shared_hub: Hub, name: str) -> None:
    response = _post(shared_hub, "/v1/admin/agencies", {"name": name})

    assert response.status_code == 422, response.text


def test_an_admin_creates_a_user_of_a_known_role(admin_hub: Hub) -> None:
    body = {"username": "medic1", "role": "ems_medic", "agency": "county"}

    created = _post(admin_hub, "/v1/admin/users", body)
    again = _post(admin_hub, "/v1/admin/users", body)

    assert (created.status_code, created.json()) == (201, {**body, "cjis_authorized": False})
    assert again.status_code == 409


def test_an_unknown_role_is_refused_naming_the_roles(shared_hub: Hub) -> None:
    body = {"username": "who", "role": "sheriff", "agency": "county"}

    response = _post(shared_hub, "/v1/admin/users", body)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert all(role.value in detail for role in Role)


def test_a_user_of_an_unknown_agency_is_refused(shared_hub: Hub) -> None:
    body = {"username": "who", "role": "auditor", "agency": "atlantis"}

    response = _post(shared_hub, "/v1/admin/users", body)

    assert response.status_code == 404


def test_a_token_for_an_unknown_user_is_refused(shared_hub: Hub) -> None:
    response = _post(shared_hub, "/v1/admin/users/nobody/tokens", None)

    assert response.status_code == 404


@pytest.mark.parametrize("days", [0, -1, 3651], ids=["zero", "negative", "over-ten-years"])
def test_a_token_lifetime_must_be_sensible(shared_hub: Hub, days: float) -> None:
    response = _post(shared_hub, "/v1/admin/users/root/tokens", {"expires_in_days": days})

    assert response.status_code == 422


def _every_stored_value(hub: Hub) -> list[Any]:
    values: list[Any] = []
    with hub.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                values.extend(row)
    return values


def test_an_issued_token_works_and_only_its_hash_is_stored(admin_hub: Hub) -> None:
    _post(admin_hub, "/v1/admin/users", {"username": "ops", "role": "admin", "agency": "county"})

    issued = _post(admin_hub, "/v1/admin/users/ops/tokens", {"expires_in_days": 1})
    token = issued.json()["token"]
    works = admin_hub.client.post(
        "/v1/admin/agencies", json={"name": "ems"}, headers={"Authorization": f"Bearer {token}"}
    )

    assert issued.status_code == 201
    assert re.fullmatch(r"cw_[A-Za-z0-9_-]{43}", token)
    assert works.status_code == 201
    stored = [
        bytes(value).decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
        for value in _every_stored_value(admin_hub)
    ]
    assert hash_token(token) in stored  # the scan does see the api_token table
    assert not [value for value in stored if token in value or token[3:] in value]


def test_revoking_through_the_api_ends_every_live_token(admin_hub: Hub) -> None:
    _post(admin_hub, "/v1/admin/users", {"username": "ops", "role": "admin", "agency": "county"})
    tokens = [_post(admin_hub, "/v1/admin/users/ops/tokens", None).json()["token"] for _ in "ab"]

    revoked = admin_hub.client.delete("/v1/admin/users/ops/tokens", headers=admin_hub.auth("root"))
    again = admin_hub.client.delete("/v1/admin/users/ops/tokens", headers=admin_hub.auth("root"))

    assert revoked.json() == {"revoked": 2}
    assert again.json() == {"revoked": 0}
    for token in tokens:
        response = admin_hub.client.get(
            "/v1/admin/clusters", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401


def test_revoking_an_unknown_user_is_not_found(shared_hub: Hub) -> None:
    response = shared_hub.client.delete(
        "/v1/admin/users/nobody/tokens", headers=shared_hub.auth("root")
    )

    assert response.status_code == 404


def test_an_empty_store_exports_only_the_cluster_header(admin_hub: Hub) -> None:
    response = admin_hub.client.get("/v1/admin/clusters", headers=admin_hub.auth("root"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text == "agency,record_id,subject_id,match_probability\n"


def test_cjis_authorisation_is_a_user_attribute_set_by_admins_and_audited(hub: Hub) -> None:
    hub.user("root", "admin", "county")
    created = hub.client.post(
        "/v1/admin/users",
        json={"username": "sgt", "role": "police_officer", "agency": "county"},
        headers=hub.auth("root"),
    )
    granted = hub.client.put(
        "/v1/admin/users/sgt/cjis", json={"authorized": True}, headers=hub.auth("root")
    )
    unknown = hub.client.put(
        "/v1/admin/users/nobody/cjis", json={"authorized": True}, headers=hub.auth("root")
    )

    assert created.json()["cjis_authorized"] is False
    assert granted.json() == {"username": "sgt", "cjis_authorized": True}
    assert unknown.status_code == 404
    with hub.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT cjis_authorized FROM app_user WHERE username = 'sgt'")
        ).scalar_one()
        events = connection.execute(
            text("SELECT details FROM audit_event WHERE kind = 'identity.user_cjis'")
        ).all()
    assert bool(stored) is True
    assert len(events) == 1
    assert '"cjis_authorized":true' in events[0][0].replace(" ", "")


def test_the_principal_carries_cjis_authorisation_at_once_after_a_change(hub: Hub) -> None:
    hub.user("root", "admin", "county")
    hub.user("sgt", "police_officer", "county")
    seen = []

    @hub.client.app.get("/probe-principal")  # type: ignore[attr-defined]
    async def probe(user: CurrentUser) -> dict[str, bool]:
        return {"cjis": user.cjis_authorized}

    seen.append(hub.client.get("/probe-principal", headers=hub.auth("sgt")).json()["cjis"])
    hub.client.put("/v1/admin/users/sgt/cjis", json={"authorized": True}, headers=hub.auth("root"))
    seen.append(hub.client.get("/probe-principal", headers=hub.auth("sgt")).json()["cjis"])
    hub.client.put("/v1/admin/users/sgt/cjis", json={"authorized": False}, headers=hub.auth("root"))
    seen.append(hub.client.get("/probe-principal", headers=hub.auth("sgt")).json()["cjis"])

    assert seen == [False, True, False]
