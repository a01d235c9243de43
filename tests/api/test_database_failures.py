"""A lost, restarted or out-of-date database, and a failing query, through HTTP.

A database that cannot be reached is a 503 with ``Retry-After`` (the request
may be retried), ``/readyz`` says so, and so it does for a database behind the
code's schema; a query that fails is a generic 500 whose log line carries the
exception's type and the request id, never a value the request sent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text
from sqlmodel import Session

from api.hub.audit import access
from api.hub.migrations import alembic_config
from tests.api.hub import Hub

SENTINEL = "Jane Roe 078-05-1120"


@pytest.fixture
def client(hub: Hub) -> TestClient:
    """The hub's app, answering 500s instead of raising them into the test."""
    hub.user("ann", "auditor", "county")
    return TestClient(hub.client.app, raise_server_exceptions=False)


@pytest.fixture
def database_down(hub: Hub, client: TestClient) -> Iterator[None]:
    """Every new connection of the hub's engine is refused, as by a stopped server."""
    dbapi = hub.engine.dialect.loaded_dbapi

    def refuse(*_args: Any) -> None:
        raise dbapi.OperationalError("connection refused")

    hub.engine.dispose()
    event.listen(hub.engine, "do_connect", refuse)
    yield
    event.remove(hub.engine, "do_connect", refuse)


@pytest.mark.usefixtures("database_down")
def test_a_lost_database_is_a_503_with_retry_after(hub: Hub, client: TestClient) -> None:
    response = client.get("/v1/audit/events", headers=hub.auth("ann"))
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert response.json() == {"detail": "database unavailable; retry shortly"}
    assert client.get("/readyz").status_code == 503


def test_requests_succeed_again_once_the_database_is_back(hub: Hub, client: TestClient) -> None:
    dbapi = hub.engine.dialect.loaded_dbapi

    def refuse(*_args: Any) -> None:
        raise dbapi.OperationalError("connection refused")

    hub.engine.dispose()
    event.listen(hub.engine, "do_connect", refuse)
    assert client.get("/v1/audit/events", headers=hub.auth("ann")).status_code == 503
    event.remove(hub.engine, "do_connect", refuse)
    assert client.get("/v1/audit/events", headers=hub.auth("ann")).status_code == 200
    assert client.get("/readyz").status_code == 200


@pytest.mark.postgres
def test_the_first_request_after_a_postgres_restart_succeeds(
    hub: Hub, client: TestClient, postgres_url: str
) -> None:
    if hub.engine.dialect.name != "postgresql":
        pytest.skip("connections outlive the server on PostgreSQL only")
    marker = f"crosswalk-test-{uuid.uuid4().hex[:12]}"

    def mark(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET application_name = '{marker}'")
        dbapi_connection.commit()

    hub.engine.dispose()
    event.listen(hub.engine, "connect", mark)
    assert client.get("/v1/audit/events", headers=hub.auth("ann")).status_code == 200
    admin = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as other:  # what a restart does to every pooled connection
        ended = other.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :m"
            ),
            {"m": marker},
        ).all()
    admin.dispose()
    assert ended
    response = client.get("/v1/audit/events", headers=hub.auth("ann"))
    assert response.status_code == 200, response.text


def _failing_query(session: Session, *_args: Any) -> Any:
    # A NOT NULL violation: SQLAlchemy's message would list the bound value, and
    # PostgreSQL's own ("Failing row contains (…)") quotes the row.
    session.execute(text("INSERT INTO agency (name) VALUES (:name)"), {"name": SENTINEL})


def test_a_failing_query_logs_neither_its_parameters_nor_its_message(
    hub: Hub, client: TestClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access, "search_page", _failing_query)
    with caplog.at_level(logging.DEBUG):
        response = client.get(
            "/v1/audit/events", headers={**hub.auth("ann"), "X-Request-ID": "req-42"}
        )
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error", "request_id": "req-42"}
    assert SENTINEL not in response.text
    logged = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.exc_info or ''}" for r in caplog.records
    )
    assert "sqlalchemy.exc.IntegrityError" in logged
    assert "req-42" in logged
    assert "078-05-1120" not in logged
    assert "Jane" not in logged
    assert "INSERT" not in logged  # no SQL either


def test_every_engine_hides_bound_parameters(hub: Hub) -> None:
    engine: Engine = hub.engine
    assert engine.hide_parameters


def test_readyz_refuses_a_database_one_revision_behind(hub: Hub) -> None:
    assert hub.client.get("/readyz").status_code == 200
    command.downgrade(alembic_config(hub.engine), "-1")
    response = hub.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "schema out of date"
    command.upgrade(alembic_config(hub.engine), "head")
    assert hub.client.get("/readyz").status_code == 200
