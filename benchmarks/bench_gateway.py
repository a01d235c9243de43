"""The gateway's cost: resolve through it against the hub directly, and a sync end to end.

Usage (from the repository root)::

    python -m benchmarks.bench_gateway [--postgres-url URL] [--resolves 300] [--sync-records 100000]

A hub (PostgreSQL when ``--postgres-url`` is given, else SQLite in a temporary
folder) is seeded with the demo agencies, the default policy and the packaged
prior model, and served on localhost with uvicorn; the police gateway is served
beside it. Then, in one run, side by side:

* **resolve** — for each of ``--resolves`` demo people, the same person is
  resolved directly at the hub (``POST /v1/subjects/resolve`` with the
  encoding, made by the benchmark beforehand) and through the gateway
  (``POST /api/resolve`` with plaintext, encoded by the gateway), alternately,
  on keep-alive connections; the figure is the difference of the medians
  (target: the gateway adds ≤ 5 ms at p50);
* **sync** — ``--sync-records`` generated police-style records are synced into
  the hub, as a fresh agency of their own, through the gateway's sync (encode,
  submit in batches of 1,000 with the hub's incremental linking, report): wall
  time (target ≤ 60 s for 100k on PostgreSQL).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.db import make_engine, session_scope
from api.demo.builder import DEFAULT_POLICY, DEMO_DATA
from api.gateway.app import create_gateway_app
from api.gateway.query import PersonQuery, encode_query
from api.gateway.scheduled import run_sync
from api.gateway.settings import GatewaySettings
from api.hub.app import create_app
from api.hub.identity import service as identity
from api.hub.migrations import upgrade_database
from api.hub.policies.admin import import_policy
from api.hub.settings import Settings
from benchmarks.common import format_table, fresh_schema
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import generate_secret, write_secret

__all__ = ["main"]

_FIELDS = ("given_name", "family_name", "birth_date", "street_address", "city")


def _serve(app: Any, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


def _seed(settings: Settings) -> dict[str, str]:
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    tokens = {}
    with session_scope(engine) as session:
        for agency in ("police_cad", "ems", "bulk"):
            identity.create_agency(session, agency, settings.master_key_bytes())
        for user, role, agency in (("steward", "data_steward", "police_cad"),
                                   ("medic", "ems_medic", "ems"),
                                   ("bulk-steward", "data_steward", "bulk")):  # fmt: skip
            identity.create_user(session, user, role, agency)
            tokens[user] = identity.issue_token(session, user, 1)
    import_policy(engine, DEFAULT_POLICY.read_text(encoding="utf-8"), author="bench")
    engine.dispose()
    return tokens


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _p95_ms(samples: list[float]) -> float:
    return sorted(samples)[int(0.95 * (len(samples) - 1))] * 1000


def _resolves(hub: str, gateway: str, rows: list[dict[str, str]], encoder: RecordEncoder,
              token: str) -> tuple[list[float], list[float]]:  # fmt: skip
    auth = {"Authorization": f"Bearer {token}"}
    queries = [{f: r[f] for f in _FIELDS if r[f]} for r in rows]
    bodies = [encode_query(encoder, PersonQuery(**q)) for q in queries]
    direct, through = [], []
    with (
        httpx.Client(base_url=hub, headers=auth) as h,
        httpx.Client(base_url=gateway, headers=auth) as g,
    ):
        for _ in range(20):  # warm both paths
            h.post("/v1/subjects/resolve", content=bodies[0])
            g.post("/api/resolve", json=queries[0])
        for query, body in zip(queries, bodies, strict=True):
            start = time.perf_counter()
            assert h.post("/v1/subjects/resolve", content=body).status_code == 200
            direct.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert g.post("/api/resolve", json=query).status_code == 200
            through.append(time.perf_counter() - start)
    return direct, through


def _generated_police(out: Path, records: int) -> Path:
    from tools.synthetic import write_large

    write_large(out, records, seed=7, agencies=("police_cad",))
    return out / "police_cad.csv"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", help="PostgreSQL for the hub (default: SQLite)")
    parser.add_argument("--resolves", type=int, default=300)
    parser.add_argument("--sync-records", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8650)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_dir, contextlib.ExitStack() as stack:
        tmp = Path(tmp_dir)
        url = (
            stack.enter_context(fresh_schema(args.postgres_url, "bench_gateway"))
            if args.postgres_url
            else f"sqlite:///{tmp / 'hub.db'}"
        )
        settings = Settings(database_url=url, environment="development", auto_train_records=10**9)
        tokens = _seed(settings)
        write_secret(tmp / "program.key", generate_secret())
        gateway_settings = GatewaySettings(
            hub_url=f"http://127.0.0.1:{args.port}", agency="police_cad",
            key_file=tmp / "program.key", state_dir=tmp / "gateway",
        )  # fmt: skip
        hub = _serve(create_app(settings), args.port)
        gateway = _serve(create_gateway_app(gateway_settings), args.port + 1)
        demo = DEMO_DATA / "police_cad.csv"
        first = run_sync(gateway_settings, demo, tokens["steward"])
        with demo.open(newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["family_name"]][: args.resolves]
        encoder = RecordEncoder(gateway_settings.schema, gateway_settings.secret, "police_cad")
        direct, through = _resolves(f"http://127.0.0.1:{args.port}",
                                    f"http://127.0.0.1:{args.port + 1}", rows, encoder,
                                    tokens["medic"])  # fmt: skip
        export = _generated_police(tmp / "generated", args.sync_records)
        bulk = GatewaySettings(
            hub_url=gateway_settings.hub_url, agency="bulk", key_file=tmp / "program.key",
            state_dir=tmp / "gateway-bulk",
        )  # fmt: skip
        start = time.perf_counter()
        report = run_sync(bulk, export, tokens["bulk-steward"])
        sync_seconds = time.perf_counter() - start
        hub.should_exit = gateway.should_exit = True
    store = "PostgreSQL" if args.postgres_url else "SQLite"
    print(f"hub store: {store}; demo police records synced first: {first.added}")
    print(format_table(
        ["resolve path", "p50 ms", "p95 ms", "n"],
        [["hub directly", _median_ms(direct), _p95_ms(direct), len(direct)],
         ["through the gateway", _median_ms(through), _p95_ms(through), len(through)]],
    ))  # fmt: skip
    added = _median_ms(through) - _median_ms(direct)
    print(f"the gateway adds {added:.2f} ms at p50 (target <= 5 ms)")
    print(f"sync of {args.sync_records} records: {sync_seconds:.1f} s "
          f"({args.sync_records / sync_seconds:,.0f} records/s; target 100k <= 60 s); "
          f"{report.lines()[0]}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
