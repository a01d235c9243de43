"""Build the demo hub: a fresh SQLite store with agencies, users and linked people.

Everything goes through the real paths: each agency's synthetic CSV is encoded
as the agency would (:func:`linkage.encode_csv`, context columns carried by
category), a batch run trains the model, the encodings are *submitted* through
the link service in batches (validation, encryption, incremental linking) and a
re-link run settles the clustering. ``api/demo/data/hub.toml`` says who is who.
The default policy (``api/demo/data/default_policy.toml``) is published, and a few
people whose records the police also hold get consents at behavioral health, so
the subject views show real filtering.
The linkage secret is written beside the database so that a query can be
encoded for ``/v1/subjects/resolve`` (in production it never reaches the hub).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from sqlmodel import col, select

from api.db import make_engine, session_scope
from api.hub.audit import CLI_CONTEXT
from api.hub.consents.service import create_consent
from api.hub.identity import service as identity
from api.hub.identity.service import Principal
from api.hub.identity.tables import User
from api.hub.linking.clusters import cluster_rows
from api.hub.linking.models import import_model
from api.hub.linking.relink import RunManager
from api.hub.linking.service import LinkService
from api.hub.migrations import upgrade_database
from api.hub.policies.admin import import_policy
from api.hub.records.tables import RecordContext, StoredRecord
from api.hub.settings import Settings
from api.web.metrics import Metrics
from linkage.encode.encode_file import encode_csv
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret, generate_secret, write_secret
from linkage.evaluation import PairScores, cluster_pairs_of, read_truth_csv, score_pairs
from linkage.match.pipeline import link_table
from linkage.records import EncodedRecord
from linkage.schema import default_schema
from linkage.table import load_encoded_files
from policy.vocabulary import Role

__all__ = ["DEFAULT_POLICY", "DEMO_CONFIG", "DEMO_DATA", "DemoHub", "build_demo"]


def _package_data() -> Path:
    """The demo's data folder, read through ``importlib.resources`` (works from a wheel)."""
    folder = resources.files("api.demo") / "data"
    if not isinstance(folder, Path):  # a zipped install: the demo needs real files
        raise RuntimeError("crosswalk demo needs an unzipped installation of the api package")
    return folder


DEMO_DATA = _package_data()
DEMO_CONFIG = DEMO_DATA / "hub.toml"
DEFAULT_POLICY = DEMO_DATA / "default_policy.toml"
_BATCH = 1000
_CONSENTED_PEOPLE = 5


@dataclass
class DemoHub:
    """What the demo built."""

    settings: Settings
    directory: Path
    tokens: dict[str, tuple[str, str, str]] = field(
        default_factory=dict
    )  # user -> role, agency, token
    records: int = 0
    subjects: int = 0
    quality: PairScores | None = None
    query_file: Path | None = None
    consented_subject: str | None = None


def build_demo(directory: Path, config: Path = DEMO_CONFIG) -> DemoHub:
    """Create (or re-create) the demo store in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "crosswalk-demo.db"
    for stale in directory.glob("crosswalk-demo.db*"):
        stale.unlink()
    plan = tomllib.loads(config.read_text(encoding="utf-8"))
    settings = Settings(database_url=f"sqlite:///{database}", environment="development")
    demo = DemoHub(settings, directory)
    raw_secret = generate_secret()
    write_secret(directory / "linkage.key", raw_secret, overwrite=True)
    secret = LinkageSecret(raw_secret)
    engine = make_engine(settings.database_url)
    try:
        upgrade_database(engine)
        _identities(engine, settings, plan, demo)
        encoded = _encode(directory, config.parent, plan, secret)
        batch = link_table(load_encoded_files(list(encoded.values())))
        with session_scope(engine) as session:
            import_model(session, batch.model)
        _submit(engine, settings, encoded)
        import_policy(engine, DEFAULT_POLICY.read_text(encoding="utf-8"), author="demo")
        demo.consented_subject = _consents(engine)
        _score(engine, demo, config.parent / "truth.csv")
        demo.query_file = _write_query(directory, encoded)
    finally:
        engine.dispose()
    return demo


def _identities(engine: Any, settings: Settings, plan: dict[str, Any], demo: DemoHub) -> None:
    with session_scope(engine) as session:
        for agency in plan["agency"]:
            identity.create_agency(session, agency["name"], settings.master_key_bytes())
        for user in plan["user"]:
            identity.create_user(
                session,
                user["username"],
                user["role"],
                user["agency"],
                cjis_authorized=bool(user.get("cjis_authorized", False)),
            )
            token = identity.issue_token(session, user["username"], 7)
            demo.tokens[user["username"]] = (user["role"], user["agency"], token)


def _encode(
    directory: Path, base: Path, plan: dict[str, Any], secret: LinkageSecret
) -> dict[str, Path]:
    encoded = {}
    for agency in plan["agency"]:
        if "records" not in agency:
            continue
        target = directory / f"{agency['name']}.jsonl"
        encoder = RecordEncoder(default_schema(), secret, agency["name"])
        encode_csv(base / agency["records"], target, encoder, context=agency.get("context", {}))
        encoded[agency["name"]] = target
    return encoded


def _submit(engine: Any, settings: Settings, encoded: dict[str, Path]) -> None:
    service = LinkService(engine, settings, Metrics())
    service.load()
    for number, (agency, path) in enumerate(encoded.items()):
        steward = Principal(-1 - number, f"demo-{agency}", Role.DATA_STEWARD, agency)
        lines = path.read_bytes().splitlines(keepends=True)
        for start in range(0, len(lines), _BATCH):
            service.submit(steward, b"".join(lines[start : start + _BATCH]))
    runs = RunManager(service)
    runs.start(None)
    runs.wait()
    service.close()


def _consents(engine: Any) -> str | None:
    """Consents at behavioral health for a few people the police also know; one subject id."""
    with session_scope(engine) as session:
        police = set(
            session.exec(select(StoredRecord.subject_id).where(StoredRecord.agency == "police_cad"))
        )
        rows = session.exec(  # people with substance-use history, so Part 2 shows
            select(StoredRecord.record_id, StoredRecord.subject_id)
            .join(RecordContext, col(RecordContext.record_pk) == col(StoredRecord.id))
            .where(
                StoredRecord.agency == "behavioral_health",
                RecordContext.category == "substance_use",
            )
            .order_by(col(StoredRecord.record_id))
        ).all()
        chosen = [(r, s) for r, s in rows if s in police][:_CONSENTED_PEOPLE]
        user = session.exec(select(User).where(User.username == "bh-steward")).one()
        steward = Principal(user.id or 0, user.username, Role.DATA_STEWARD, "behavioral_health")
        for record_id, _ in chosen:
            for recipients, categories, purposes in _DEMO_CONSENTS:
                body = {"record_id": record_id, "grantor": "subject", "recipients": recipients,
                        "categories": categories, "purposes": purposes}  # fmt: skip
                create_consent(session, steward, CLI_CONTEXT, body)
    return chosen[0][1] if chosen else None


_DEMO_CONSENTS: tuple[tuple[list[dict[str, str]], list[str], list[str]], ...] = (
    # The shelter network's case managers may see the crisis plan to coordinate care.
    ([{"agency": "homeless_services", "role": "case_manager"}], ["behavioral_health"],
     ["care_coordination", "crisis_response"]),
    # Treating clinicians may see substance-use history (42 CFR Part 2 written consent).
    ([{"role": "bh_clinician"}], ["substance_use"], ["treatment", "care_coordination"]),
)  # fmt: skip


def _score(engine: Any, demo: DemoHub, truth: Path) -> None:
    with session_scope(engine) as session:
        rows = list(cluster_rows(session))
    keys = [(agency, record_id) for agency, record_id, _, _ in rows]
    subjects = [subject for _, _, subject, _ in rows]
    demo.records, demo.subjects = len(rows), len(set(subjects))
    if truth.exists():
        demo.quality = score_pairs(cluster_pairs_of(keys, subjects), read_truth_csv(truth))


def _write_query(directory: Path, encoded: dict[str, Path]) -> Path:
    """A resolve query: the identifiers of a person known to the police, as EMS would send."""
    first = encoded["police_cad"].read_bytes().splitlines()[0]
    record = orjson.loads(first)
    query = EncodedRecord(
        record["schema_version"], record["key_id"], "ems", "query", record["tokens"],
        record["filters"],
    )  # fmt: skip
    target = directory / "query.json"
    target.write_bytes(query.to_json())
    return target
