"""A small co-response program for gateway tests: a live hub, its users, policy, model, data.

The hub runs on localhost (uvicorn) on SQLite or PostgreSQL, with the default
policy published and a model trained on the small synthetic fixture, so
resolve works at once. Each agency's export is synced through the gateway's
own sync code with its data steward's token; the gateway app under test is
then built per agency with :meth:`Program.gateway`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine

from api.db import make_engine, session_scope
from api.demo.builder import DEFAULT_POLICY
from api.gateway.app import create_gateway_app
from api.gateway.local_store import LocalStore
from api.gateway.settings import GatewaySettings
from api.gateway.sync import sync_export
from api.hub.app import create_app
from api.hub.identity import service as identity
from api.hub.linking.models import import_model
from api.hub.migrations import upgrade_database
from api.hub.policies.admin import import_policy
from api.hub.settings import Settings
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret, write_secret
from linkage.match.pipeline import link_table
from linkage.table import table_from_records
from tests.api.hub import FIXTURE_CONTEXT, encode_rows, make_settings
from tests.live import serve

SECRET = bytes(range(32))
AGENCIES = ("police_cad", "behavioral_health", "homeless_services", "ems")
USERS = {
    "steward-police_cad": ("data_steward", "police_cad"),
    "steward-behavioral_health": ("data_steward", "behavioral_health"),
    "steward-homeless_services": ("data_steward", "homeless_services"),
    "officer": ("police_officer", "police_cad"),
    "clinician": ("bh_clinician", "behavioral_health"),
    "medic": ("ems_medic", "ems"),
}


@dataclass
class Program:
    """A live hub and what the gateway tests need to reach it."""

    hub_url: str
    engine: Engine
    settings: Settings
    tmp: Path
    exports: dict[str, Path]
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def key_file(self) -> Path:
        """The program's linkage secret, as the agencies hold it."""
        return self.tmp / "program.key"

    def gateway_settings(self, agency: str, **overrides: object) -> GatewaySettings:
        """Settings of ``agency``'s gateway."""
        values: dict[str, object] = {
            "hub_url": self.hub_url, "agency": agency, "key_file": self.key_file,
            "state_dir": self.tmp / f"gateway-{agency}",
            "context": {k: tuple(v) for k, v in FIXTURE_CONTEXT.get(agency, {}).items()},
        }  # fmt: skip
        return GatewaySettings(**{**values, **overrides})  # type: ignore[arg-type]

    def sync(self, agency: str, transport: httpx.BaseTransport | None = None) -> None:
        """Sync ``agency``'s export through its gateway's sync code."""
        gs = self.gateway_settings(agency)
        headers = {"Authorization": f"Bearer {self.tokens['steward-' + agency]}"}
        with httpx.Client(
            base_url=self.hub_url, headers=headers, timeout=60, transport=transport
        ) as client:
            report = sync_export(
                self.exports[agency], encoder=RecordEncoder(gs.schema, gs.secret, agency),
                store=LocalStore(gs.database), hub=client, context=gs.context,
            )  # fmt: skip
        assert report.completed, report.lines()
        assert not report.refused, report.lines()

    @contextmanager
    def gateway(
        self, agency: str, transport: httpx.AsyncBaseTransport | None = None, **overrides: object
    ) -> Iterator[httpx.Client]:
        """``agency``'s gateway, served on localhost beside the hub; a client of it.

        ``transport`` carries the gateway's calls to the hub (tests record them).
        """
        app = create_gateway_app(
            self.gateway_settings(agency, **overrides), hub_transport=transport
        )
        with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield client

    def auth(self, user: str) -> dict[str, str]:
        """The user's hub token as a header."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def read_export(path: Path) -> list[dict[str, str]]:
    """An export CSV as rows."""
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@contextmanager
def running_program(database_url: str, tmp: Path, fixtures_dir: Path) -> Iterator[Program]:
    """Seed a hub on ``database_url``, serve it, and sync every agency's export."""
    settings = make_settings(database_url)
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    write_secret(tmp / "program.key", SECRET)
    tokens: dict[str, str] = {}
    with session_scope(engine) as session:
        for agency in AGENCIES:
            identity.create_agency(session, agency, settings.master_key_bytes())
        for user, (role, agency) in USERS.items():
            identity.create_user(session, user, role, agency)
            tokens[user] = identity.issue_token(session, user, 1)
    import_policy(engine, DEFAULT_POLICY.read_text(encoding="utf-8"), author="tests")
    small = fixtures_dir / "synthetic" / "small"
    exports = {a: small / f"{a}.csv" for a in AGENCIES if (small / f"{a}.csv").exists()}
    records = [
        r for a, p in exports.items() for r in encode_rows(LinkageSecret(SECRET), a, read_export(p))
    ]
    model = link_table(table_from_records(records)).model
    with session_scope(engine) as session:
        import_model(session, model)
    try:
        with serve(create_app(settings)) as url:
            program = Program(url, engine, settings, tmp, exports, tokens)
            for agency in exports:
                program.sync(agency)
            yield program
    finally:
        engine.dispose()
