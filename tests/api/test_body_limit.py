"""One body limit for every route, enforced while streaming and before authentication."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.hub import Hub, make_settings, open_hub, served_routes

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def small_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub (SQLite) that accepts at most 64 KiB of body per request."""
    url = f"sqlite:///{tmp_path_factory.mktemp('limit') / 'hub.db'}"
    yield from open_hub(make_settings(url, max_body_bytes=LIMIT))


ROUTES = [
    (method, path.replace("{", "").replace("}", ""))  # any path value will do
    for method, path in served_routes()
    if method in {"POST", "PUT", "PATCH", "DELETE"}
]


def test_every_writing_route_is_covered() -> None:
    assert ("POST", "/v1/records") in ROUTES
    assert ("POST", "/v1/consents/import") in ROUTES
    assert len(ROUTES) >= 15


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_a_declared_oversized_body_is_refused_before_the_token_is_read(
    small_hub: Hub, method: str, path: str
) -> None:
    response = small_hub.client.request(
        method,
        path,
        content=b"{" + b" " * LIMIT + b"}",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413, response.text
    assert response.json() == {"detail": f"request body over {LIMIT} bytes"}


def test_a_chunked_body_is_cut_off_at_the_limit(small_hub: Hub) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(1000):  # 1000 x 8 KiB = 8 MiB offered
            sent += 8192
            yield b" " * 8192

    response = small_hub.client.post(
        "/v1/consents/import", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413, response.text
    assert response.json()["detail"] == f"request body over {LIMIT} bytes"


def test_a_malformed_content_length_is_refused(small_hub: Hub) -> None:
    response = small_hub.client.post(
        "/v1/policies/drafts", content=b"{}", headers={"Content-Length": "12abc"}
    )

    assert response.status_code == 413


def test_a_body_within_the_limit_still_reaches_the_route(small_hub: Hub) -> None:
    response = small_hub.client.post("/v1/policies/drafts", json={"scope": "x", "rules": []})

    assert response.status_code == 401  # the route ran: it asked for a token
