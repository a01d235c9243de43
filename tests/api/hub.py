"""A test hub: an app on a fresh database, plus users, tokens and encoded records.

``Hub`` wraps a ``TestClient`` and the engine; identity set-up goes through the
service layer (fast), the behaviour under test through HTTP.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastapi.routing
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.db import session_scope
from api.demo.builder import DEMO_CONFIG
from api.errors import NotFound
from api.hub.app import create_app
from api.hub.identity import service as identity
from api.hub.linking.relink import RunManager
from api.hub.linking.service import LinkService
from api.hub.services import HubServices
from api.hub.settings import Settings
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret
from linkage.records import EncodedRecord
from linkage.schema import default_schema

#: Context columns of the synthetic fixture agencies, by category: the demo
#: hub's own mapping (fixtures/demo/hub.toml), so tests and demo cannot drift.
FIXTURE_CONTEXT: dict[str, dict[str, tuple[str, ...]]] = {
    agency["name"]: {category: tuple(columns) for category, columns in agency["context"].items()}
    for agency in tomllib.loads(DEMO_CONFIG.read_text(encoding="utf-8"))["agency"]
    if "context" in agency
}


def encode_rows(
    secret: LinkageSecret, agency: str, rows: Sequence[Mapping[str, str]]
) -> list[EncodedRecord]:
    """Encode plaintext rows as the agency would, with their fixture context."""
    encoder = RecordEncoder(default_schema(), secret, agency)
    out = []
    for row in rows:
        record, _ = encoder.encode(row["record_id"], row)
        for category, columns in FIXTURE_CONTEXT.get(agency, {}).items():
            values = {c: row[c] for c in columns if row.get(c)}
            if values:
                record.context[category] = values
        out.append(record)
    return out


def read_rows(path: Path) -> list[dict[str, str]]:
    """A fixture CSV as dictionaries."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def ndjson(records: Sequence[EncodedRecord]) -> bytes:
    """The request body of a submission."""
    return b"".join(r.to_json() + b"\n" for r in records)


@dataclass
class Hub:
    """A running test app with helpers."""

    client: TestClient
    engine: Engine
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def services(self) -> HubServices:
        """The app's services."""
        services: HubServices = self.client.app.state.services  # type: ignore[attr-defined]
        return services

    @property
    def linking(self) -> LinkService:
        """The app's link service."""
        return self.services.linking

    @property
    def runs(self) -> RunManager:
        """The app's re-link runner."""
        return self.services.runs

    def agency(self, name: str) -> None:
        """Create an agency (idempotent for tests)."""
        with session_scope(self.engine) as session:
            try:
                identity.get_agency(session, name)
            except NotFound:
                identity.create_agency(session, name, self.settings.master_key_bytes())

    def user(self, username: str, role: str, agency: str, days: float = 30) -> str:
        """Create a user and return a fresh token (also kept in ``tokens``)."""
        self.agency(agency)
        with session_scope(self.engine) as session:
            identity.create_user(session, username, role, agency)
            token = identity.issue_token(session, username, days)
        self.tokens[username] = token
        return token

    def auth(self, username: str) -> dict[str, str]:
        """Authorization header of a user made with :meth:`user`."""
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def submit(self, username: str, records: Sequence[EncodedRecord]) -> Any:
        """POST a batch as NDJSON."""
        headers = {**self.auth(username), "Content-Type": "application/x-ndjson"}
        return self.client.post("/v1/records", content=ndjson(records), headers=headers)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Development settings on ``database_url``."""
    return Settings(database_url=database_url, environment="development", **overrides)


def open_hub(settings: Settings) -> Iterator[Hub]:
    """Start an app (lifespan included) and yield a :class:`Hub`."""
    app = create_app(settings)
    with TestClient(app) as client:
        yield Hub(client, app.state.services.engine, settings)


def served_routes() -> list[tuple[str, str]]:
    """Every ``(method, path)`` the hub answers, included routers flattened."""
    app = create_app(make_settings("sqlite://"), migrate=False)  # no lifespan: no database
    # FastAPI >= 0.165 keeps included routers lazy; iter_route_contexts flattens them.
    flatten = getattr(fastapi.routing, "iter_route_contexts", list)
    found = []
    routes: list[Any] = list(flatten(app.routes))
    for route in routes:
        # A mount or websocket has no methods: fail rather than let it go unchecked.
        assert route.methods, f"unexpected route {route!r}"
        for method in sorted(set(route.methods) - {"HEAD", "OPTIONS"}):
            found.append((method, route.path))
    return found
