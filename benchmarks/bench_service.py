"""The hub's service targets on PostgreSQL: incremental link latency and resolve under load.

Usage (from the repository root; PostgreSQL reachable, locust from the ``bench`` extra)::

    python -m benchmarks.bench_service --records 100000
    python -m benchmarks.bench_service --records 1000000 --skip-build --resolve-rate 300,400

Steps, each printed as it finishes, then one table of every figure:

1. **Store** — ``N + 3 × --singles`` records are generated (``write_large``, what
   ``python -m tools.synthetic --records`` runs) and encoded under one throw-away key
   (cached in ``--workdir`` per encoder version). ``3 × --singles`` of them, drawn at
   random, are held out: new records to link, new records for the stubbed baseline, and
   resolve queries. The model is trained by ``link_table`` on ``--train-sample`` stored
   records; subjects come from that batch run when it covered the whole store, else
   from ``truth.csv`` (the true person: what a perfect batch run gives). The rows are
   written with one binary ``COPY`` into ``stored_record`` of schema ``--schema`` (made
   afresh), the model imported with :func:`api.hub.linking.models.import_model`.
   ``--skip-build`` reuses the store of an earlier run with the same options.
2. **Start-up** — :meth:`LinkService.load` in a freshly spawned process: wall time,
   resident memory after it (and peak during it), and the bare fetch of the live rows.
3. **Incremental** — ``--singles`` rounds, each timing four calls in one process:
   ``LinkService.submit`` of one held-out record (target p50 ≤ 10 ms, p99 ≤ 50 ms), of
   one stored record (an update), of one held-out record with linking stubbed (every
   record its own subject, as with no model: the submit path's own cost), and a bare
   linking transaction (``lock_link_state`` + ``upsert_records`` of one row). Rows
   the benchmark added are deleted afterwards, so the store can be reused.
4. **Resolve** — ``crosswalk serve --workers W`` on the store; locust (headless,
   :mod:`benchmarks.locust_resolve`) offers ``--resolve-rate`` requests/s for
   ``--duration`` s of ``POST /v1/subjects/resolve`` (held-out records re-stamped as an
   ``ems`` query), after the same offered rate on ``GET /healthz`` (the HTTP stack's
   floor). Target: ≥ 300 requests/s with p99 ≤ 50 ms. Locust runs on the same cores;
   the CPU each party used during each run is printed. ``--profile`` samples one
   worker with py-spy during the first resolve run and prints its hottest frames.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from benchmarks.common import crosswalk_server, format_table, run_in_child
from benchmarks.options import add_common_arguments, parse_sizes, size_label
from benchmarks.synthetic_cache import SyntheticSet, encode_agency_files, ensure_synthetic

__all__ = ["main"]

_DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
_COPY_COLUMNS = ("agency", "record_id", "schema_version", "key_id", "encoding", "subject_id",
                 "match_probability", "retracted", "change_seq", "updated_at")  # fmt: skip
_COPY_TYPES = ("varchar", "varchar", "varchar", "varchar", "bytea", "varchar", "float8", "bool",
               "int4", "timestamptz")  # fmt: skip
_QUERY_AGENCY = "ems"
_RESPONDER = "bench-medic"
_MS = 1000.0


# --- options -------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--records",
        type=lambda t: parse_sizes(t)[0],
        default=1_000_000,
        help="stored records (default 1000000; 100k, 1M accepted)",
    )
    p.add_argument(
        "--database-url",
        default=_DEFAULT_URL,
        help=f"PostgreSQL server (default {_DEFAULT_URL}); --schema is selected in it",
    )
    p.add_argument("--schema", default="bench_service", help="schema holding the store")
    p.add_argument("--skip-build", action="store_true", help="reuse the store of an earlier run")
    p.add_argument("--drop-schema", action="store_true", help="drop the schema at the end")
    p.add_argument("--singles", type=int, default=500, help="rounds of single-record submits")
    p.add_argument(
        "--train-sample",
        type=int,
        default=200_000,
        help="stored records the model is trained on (default 200000)",
    )
    p.add_argument(
        "--resolve-rate",
        type=lambda t: [int(x) for x in t.split(",")],
        default=[300],
        help="offered requests/s, comma-separated (default 300)",
    )
    p.add_argument("--duration", type=int, default=60, help="seconds per locust run")
    # 10, not 50: locust's one gevent process adds latency of its own with its user
    # count (same server, 300/s: p50 4-10 ms with 10 users, 21-29 ms with 50; the paced
    # client's 48 connections get 4 ms), so 50 users measured locust, not the hub.
    p.add_argument("--users", type=int, default=10, help="locust users sharing the rate")
    p.add_argument("--workers", type=int, default=2, help="crosswalk serve worker processes")
    p.add_argument("--port", type=int, default=8123, help="port of the benchmarked server")
    p.add_argument("--startup-timeout", type=float, default=900, help="seconds to wait for it")
    p.add_argument("--reencode", action="store_true", help="encode the data set afresh")
    p.add_argument("--skip-resolve", action="store_true", help="skip the HTTP load test")
    p.add_argument("--skip-incremental", action="store_true", help="skip the submit latencies")
    p.add_argument("--profile", action="store_true", help="py-spy one worker during resolve")
    add_common_arguments(p)
    return p


def _schema_url(base: str, schema: str) -> str:
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options=-csearch_path%3D{schema}"


def _settings(url: str) -> Any:
    from api.hub.settings import Settings

    return Settings(database_url=url, environment="development")


# --- data ----------------------------------------------------------------------------
def _encoded(dataset: SyntheticSet, reencode: bool) -> list[Path]:
    """The agency files encoded under one throw-away key, cached with the data set.

    Not keyed by the encoder's source: the store built from them must stay usable
    (``--skip-build``) while the engine is being edited; ``--reencode`` refreshes them.
    """
    target = dataset.directory / "service-encoded"
    if reencode:
        shutil.rmtree(target, ignore_errors=True)
    if not target.is_dir():
        scratch = Path(tempfile.mkdtemp(prefix=".encoding.", dir=dataset.directory))
        try:
            run_in_child(encode_agency_files, dataset.agency_csvs, scratch)
            scratch.rename(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return [target / f"{agency}.jsonl" for agency in dataset.agency_csvs]


@dataclass(frozen=True)
class Split:
    """Row numbers (over the encoded files in order) of each role."""

    stored: np.ndarray
    new: np.ndarray
    stubbed: np.ndarray
    queries: np.ndarray
    updates: np.ndarray


def _split(total: int, singles: int, seed: int) -> Split:
    order = np.random.default_rng(seed).permutation(total)
    held = order[: 3 * singles].reshape(3, singles)
    stored = np.sort(order[3 * singles :])
    updates = np.random.default_rng(seed + 1).choice(stored, singles, replace=False)
    return Split(stored, held[0], held[1], held[2], updates)


def _lines(paths: Sequence[Path], rows: np.ndarray) -> list[bytes]:
    """The JSON lines of ``rows`` (non-blank lines numbered across files), in ``rows`` order."""
    wanted = {int(r): i for i, r in enumerate(rows)}
    found: list[bytes] = [b""] * len(rows)
    number = 0
    for path in paths:
        with path.open("rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                if number in wanted:
                    found[wanted[number]] = line.rstrip(b"\n")
                number += 1
    return found


# --- 1. store ------------------------------------------------------------------------
def _fresh_schema(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(_settings(base).database_url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def _subjects(result: Any, stored_keys: list[tuple[str, str]], truth: Path) -> list[str]:
    if result is not None:
        return list(result.subject_ids)
    with truth.open(encoding="utf-8", newline="") as handle:
        person = {(r["agency"], r["record_id"]): r["person_id"] for r in csv.DictReader(handle)}
    return [f"S-{person[key]}" for key in stored_keys]


def build_store(
    url: str, paths: list[Path], split: Split, sample: int, truth: Path
) -> dict[str, Any]:
    """Run in a child: train, write every stored row with COPY, import the model."""
    from api.db import make_engine, session_scope
    from api.hub.identity import service as identity
    from api.hub.linking.models import import_model
    from api.hub.migrations import upgrade_database
    from linkage.match.pipeline import link_table
    from linkage.match.table_ops import take_rows
    from linkage.row_codec import row_blobs
    from linkage.table import load_encoded_files

    times: dict[str, float] = {}
    start = time.perf_counter()
    table = take_rows(load_encoded_files(paths), split.stored)
    times["load encodings"] = time.perf_counter() - start
    settings = _settings(url)
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    with session_scope(engine) as session:
        for agency in sorted({*table.agencies, _QUERY_AGENCY}):
            identity.create_agency(session, agency, settings.master_key_bytes())
    start = time.perf_counter()
    whole = sample >= len(table)
    rows = (
        np.arange(len(table))
        if whole
        else np.sort(np.random.default_rng(7).choice(len(table), sample, replace=False))
    )
    batch = link_table(table if whole else take_rows(table, rows))
    subjects = _subjects(batch if whole else None, table.keys(), truth)
    times["train"] = time.perf_counter() - start
    start = time.perf_counter()
    _copy_rows(engine, table, row_blobs(table), subjects)
    times["COPY + ANALYZE"] = time.perf_counter() - start
    with session_scope(engine) as session:
        import_model(session, batch.model)  # also sets link_state.key_id
    engine.dispose()
    return {"times": times, "trained_on": len(rows), "subjects": "batch" if whole else "truth",
            "subject_count": len(set(subjects))}  # fmt: skip


def _copy_rows(engine: Any, table: Any, blobs: list[bytes], subjects: list[str]) -> None:
    now = datetime.now(UTC)
    version, key_id = table.schema_version, table.key_id
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cursor:
            columns = ", ".join(_COPY_COLUMNS)
            with cursor.copy(f"COPY stored_record ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(list(_COPY_TYPES))
                for agency, rid, blob, subject in zip(
                    table.agencies, table.record_ids, blobs, subjects, strict=True
                ):
                    copy.write_row(
                        (agency, rid, version, key_id, blob, subject, 0.0, False, 0, now)
                    )
            cursor.execute("ANALYZE stored_record")
        conn.commit()
    finally:
        raw.close()


# --- 2. start-up -------------------------------------------------------------------------
def _vm(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def measure_load(url: str, token: str, queries: list[bytes]) -> dict[str, Any]:
    """Run in a child: ``LinkService.load()`` time and memory, the bare row fetch, and
    the per-request steps of a resolve timed in process (no HTTP)."""
    from sqlmodel import Session

    from api.db import make_engine
    from api.hub.linking.service import LinkService
    from api.hub.records.store import live_rows
    from api.web.metrics import Metrics

    settings = _settings(url)
    engine = make_engine(settings.database_url)
    before = _vm("VmRSS:")
    service = LinkService(engine, settings, Metrics())
    start = time.perf_counter()
    service.load()
    seconds = time.perf_counter() - start
    rss, peak = _vm("VmRSS:"), _vm("VmHWM:")
    start = time.perf_counter()
    with Session(engine) as session:
        count = len(live_rows(session))
    fetch = time.perf_counter() - start
    steps = _resolve_steps(service, engine, token, queries)
    service.close()
    engine.dispose()
    return {"seconds": seconds, "rss": rss - before, "rss_total": rss, "peak": peak,
            "fetch": fetch, "records": count, "steps": steps}  # fmt: skip


def _resolve_steps(service: Any, engine: Any, token: str, queries: list[bytes]) -> dict[str, float]:
    """Median ms of each step a resolve request takes, one query after another."""
    from sqlmodel import Session

    from api.hub.identity.service import authenticate
    from linkage.match.incremental import resolve
    from linkage.table import table_from_lines

    def auth() -> Any:
        with Session(engine) as session:
            return authenticate(session, token)

    principal = auth()
    tables = [table_from_lines([q], source="query") for q in queries]
    calls: dict[str, Callable[[int], object]] = {
             "authenticate (DB)": lambda i: auth(), "sync (DB)": lambda i: service.sync(),
             "linkage resolve": lambda i: resolve(service.index, tables[i], service.model,
                                                  service.link_settings),
             "LinkService.resolve": lambda i: service.resolve(principal, queries[i])}  # fmt: skip
    try:  # the route commits one audit event per resolve (api.hub.audit, where present)
        from api.db import session_scope
        from api.hub.audit import EventKind, record

        def audit(i: int) -> None:
            with session_scope(engine) as session:
                record(session, EventKind.SUBJECT_RESOLVE, actor=principal, decision="permit",
                       details={"candidates": 0, "subject_ids": []})  # fmt: skip

        calls["audit event (DB commit)"] = audit
    except ImportError:
        pass
    steps: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(len(queries)):
        for name, call in calls.items():
            start = time.perf_counter()
            call(i)
            steps[name].append(time.perf_counter() - start)
    return {name: float(np.median(s)) * _MS for name, s in steps.items()}


# --- 3. incremental ------------------------------------------------------------------------
def _stubbable() -> Any:
    from api.hub.linking.service import LinkService

    class StubbableLinkService(LinkService):
        """``stub = True`` skips linking: every record keeps or gets its own subject."""

        stub = False

        def _link(self, session: Any, table: Any) -> Any:
            return self._unlinked(table) if self.stub else super()._link(session, table)

    return StubbableLinkService


def _steward(agency: str) -> Any:
    from api.hub.identity.service import Principal
    from policy.vocabulary import Role

    return Principal(-1, f"bench-steward-{agency}", Role.DATA_STEWARD, agency)


def measure_incremental(
    url: str, new: list[bytes], updates: list[bytes], stubbed: list[bytes]
) -> dict[str, list[float]]:
    """Run in a child: one round per record of each kind, interleaved; then clean up."""
    from api.db import make_engine
    from api.web.metrics import Metrics

    settings = _settings(url)
    engine = make_engine(settings.database_url)
    service = _stubbable()(engine, settings, Metrics())
    service.load()
    added: list[tuple[str, str]] = []
    out: dict[str, list[float]] = {"new": [], "update": [], "stubbed": [], "bare": []}
    merges = Counter[str]()
    for i, (n, u, s) in enumerate(zip(new, updates, stubbed, strict=True)):
        for kind, line in (("new", n), ("update", u), ("stubbed", s)):
            first = orjson.loads(line)
            service.stub = kind == "stubbed"
            start = time.perf_counter()
            outcome = service.submit(_steward(first["agency"]), line + b"\n")
            out[kind].append(time.perf_counter() - start)
            merges[kind] += outcome.merges
            if kind != "update":
                added.append((first["agency"], first["record_id"]))
        out["bare"].append(_bare_write(service, f"bench-bare-{i}"))
        added.append((service.index.key_of(0)[0], f"bench-bare-{i}"))
    _delete(engine, added)
    engine.dispose()
    out["merges"] = [float(merges[k]) for k in ("new", "update", "stubbed")]
    return out


def _bare_write(service: Any, record_id: str) -> float:
    """One linking transaction that writes one row: the store's floor for a submit."""
    from api.hub.records.store import NewRecord, upsert_records
    from linkage.row_codec import row_blobs

    index = service.index
    blob = row_blobs(index.take(np.array([0])))[0]
    agency = index.key_of(0)[0]
    start = time.perf_counter()
    with service._lock, service.write() as (session, state):
        row = NewRecord(record_id, index.schema_version, index.key_id, blob, f"S-{record_id}",
                        0.0, {})  # fmt: skip
        upsert_records(session, agency, [row], state.seq)
    return time.perf_counter() - start


def _delete(engine: Any, keys: list[tuple[str, str]]) -> None:
    from sqlalchemy import text

    from api.db import session_scope
    from api.hub.linking.models import lock_link_state

    with session_scope(engine) as session:
        lock_link_state(session)
        for agency, record_id in keys:
            session.execute(
                text("DELETE FROM stored_record WHERE agency = :a AND record_id = :r"),
                {"a": agency, "r": record_id},
            )


# --- 4. resolve under load ---------------------------------------------------------------
def _responder_token(url: str, key_id: str) -> str:
    """A responder's token, once the store is known to hold encodings under ``key_id``."""
    from sqlmodel import select

    from api.db import make_engine, session_scope
    from api.hub.identity import service as identity
    from api.hub.identity.tables import User
    from api.hub.linking.tables import LinkState
    from api.hub.migrations import upgrade_database

    engine = make_engine(_settings(url).database_url)
    upgrade_database(engine)  # a store built by an older checkout
    with session_scope(engine) as session:
        stored = session.get(LinkState, 1)
        if stored is None or stored.key_id != key_id:
            raise SystemExit("the store holds other encodings than the data set: rebuild it")
        if session.exec(select(User).where(User.username == _RESPONDER)).first() is None:
            identity.create_user(session, _RESPONDER, "ems_medic", _QUERY_AGENCY)
        token = identity.issue_token(session, _RESPONDER, 1)
    engine.dispose()
    return token


def _query(line: bytes) -> bytes:
    """A held-out record as a responder's query: agency ``ems``, no context."""
    from linkage.records import EncodedRecord

    r = orjson.loads(line)
    query = EncodedRecord(r["schema_version"], r["key_id"], _QUERY_AGENCY, "query",
                          r["tokens"], r["filters"])  # fmt: skip
    return query.to_json()


def _cpu_seconds(processes: Sequence[Any]) -> dict[int, float]:
    """CPU seconds used so far by each process that is still there, by pid."""
    used: dict[int, float] = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except Exception:  # noqa: S112 - a process that ended contributes nothing more
            continue
        used[process.pid] = times.user + times.system
    return used


@dataclass
class _CpuWindow:
    """Who used how much CPU between :meth:`open` and :meth:`shares` (processes by party)."""

    parties: dict[str, list[Any]]
    used: dict[str, dict[int, float]]
    machine: Any
    started: float

    @classmethod
    def open(cls, parties: dict[str, list[Any]]) -> _CpuWindow:
        import psutil

        used = {name: _cpu_seconds(ps) for name, ps in parties.items()}
        return cls(parties, used, psutil.cpu_times(), time.perf_counter())

    def shares(self) -> dict[str, float]:
        """Each party's CPU, and the whole machine's, as a share of one core."""
        import psutil

        after = {name: _cpu_seconds(ps) for name, ps in self.parties.items()}
        machine, wall = psutil.cpu_times(), time.perf_counter() - self.started
        busy = sum(machine) - sum(self.machine) - (machine.idle - self.machine.idle)
        cpu = {name: sum(t - self.used[name].get(pid, 0.0) for pid, t in after[name].items())
               / wall for name in self.parties}  # fmt: skip
        cpu["machine"] = busy / wall
        return cpu


def _workers(server: Any) -> list[Any]:
    """The uvicorn worker processes: the children listening on the port (not
    multiprocessing's resource tracker, not the audit sealer process)."""
    return [p for p in server.children(recursive=True) if _listens(p)]


def _sealer(server: Any) -> list[Any]:
    """``crosswalk serve``'s audit sealer process (a child that does not listen)."""
    return [p for p in server.children(recursive=True)
            if not _listens(p) and "resource_tracker" not in " ".join(p.cmdline())]  # fmt: skip


def _listens(process: Any) -> bool:
    try:
        return any(c.status == "LISTEN" for c in process.net_connections(kind="tcp"))
    except Exception:  # gone, or not ours to inspect
        return False


def _parties(server: Any, locust: Any) -> dict[str, list[Any]]:
    import psutil

    postgres = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
    return {"locust": [locust], "server": [server, *_workers(server)],
            "sealer": _sealer(server), "postgres": postgres}  # fmt: skip


@dataclass
class LoadRun:
    """One locust run: what it achieved and who used the CPU."""

    target: str
    offered: int
    requests: int = 0
    failures: int = 0
    rate: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    cpu: dict[str, float] | None = None


def _locust(user: str, rate: int, args: argparse.Namespace, env: dict[str, str],
            server: Any, out: Path) -> LoadRun:  # fmt: skip
    import psutil

    prefix = out / f"{user}-{rate}"
    env = {**env, "CROSSWALK_BENCH_USER_RATE": str(rate / args.users)}
    command = [str(Path(sys.executable).with_name("locust")), "-f",
               str(Path(__file__).with_name("locust_resolve.py")), "--headless",
               "-u", str(args.users), "-r", str(args.users), "--run-time", f"{args.duration}s",
               "--host", f"http://127.0.0.1:{args.port}", "--csv", str(prefix), "--reset-stats",
               "--only-summary", "--loglevel", "WARNING", user]  # fmt: skip
    with (out / f"{user}-{rate}.log").open("wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    parties = _parties(server, psutil.Process(proc.pid))
    window = _CpuWindow.open(parties)
    profile = _py_spy(server, args, out) if args.profile and user == "ResolveUser" else None
    time.sleep(max(0.0, args.duration - 1))
    parties["postgres"] = _parties(server, parties["locust"][0])["postgres"]  # new backends too
    cpu = window.shares()  # before locust exits
    proc.wait()
    if profile is not None:
        profile.wait()
    return _parse_stats(user, rate, prefix.with_name(prefix.name + "_stats.csv"), cpu)


def _paced_run(rate: int, args: argparse.Namespace, env: dict[str, str], server: Any,
               query_file: Path) -> LoadRun:  # fmt: skip
    """The same offered load from :mod:`benchmarks.paced_load` (a plain keep-alive client)."""
    import psutil

    command = [sys.executable, "-m", "benchmarks.paced_load", "--port", str(args.port),
               "--queries", str(query_file), "--rate", str(rate),
               "--duration", str(args.duration)]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE)  # noqa: S603
    time.sleep(3)  # its clients are up
    client = psutil.Process(proc.pid)
    parties = {**_parties(server, client), "client": [client, *client.children(recursive=True)]}
    del parties["locust"]
    window = _CpuWindow.open(parties)
    time.sleep(max(0.0, args.duration - 5))
    cpu = window.shares()
    output, _ = proc.communicate()
    got = orjson.loads(output.splitlines()[-1])
    return LoadRun("resolve, paced client", rate, got["requests"], got["failures"], got["rate"],
                   got["p50"], got["p95"], got["p99"], cpu)  # fmt: skip


def _parse_stats(user: str, rate: int, path: Path, cpu: dict[str, float]) -> LoadRun:
    with path.open(encoding="utf-8", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    return LoadRun(user.removesuffix("User").lower(), rate, int(row["Request Count"]),
                   int(row["Failure Count"]), float(row["Requests/s"]), float(row["50%"]),
                   float(row["95%"]), float(row["99%"]), cpu)  # fmt: skip


def _py_spy(server: Any, args: argparse.Namespace, out: Path) -> Any:
    worker = _workers(server)[0].pid
    seconds = max(5, min(20, args.duration - 15))
    command = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(worker),
               "--duration", str(seconds), "--rate", "50", "--gil", "--nonblocking",
               "--format", "raw", "--output", str(out / "resolve-profile.txt")]  # fmt: skip
    time.sleep(5)  # past the ramp-up
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def _profile_summary(path: Path, top: int = 12) -> str:
    """Hottest frames of a py-spy raw profile: self share and inclusive share."""
    own, inclusive, total = Counter[str](), Counter[str](), 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0] + ")"
                  for f in stack.split(";") if f]  # fmt: skip
        if not frames or not count.isdigit():
            continue
        n = int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return "py-spy: no samples (a run of at least 30 s leaves it 15 s of them)"
    rows = [(f"{100 * n / total:.1f}%", f"{100 * inclusive[f] / total:.1f}%", f)
            for f, n in own.most_common(top)]  # fmt: skip
    rows += [
        ("-", f"{100 * n / total:.1f}%", f)
        for f, n in inclusive.most_common(top * 3)
        if f not in dict(own.most_common(top)) and "site-packages/" not in f
    ][:top]
    title = f"frame ({total} samples holding the GIL, one worker)"
    return format_table(("self", "incl.", title), rows)


# --- reporting ---------------------------------------------------------------------------
def _ms(seconds: list[float]) -> str:
    p = np.percentile(np.asarray(seconds) * _MS, [50, 95, 99])
    return f"{p[0]:.1f} / {p[1]:.1f} / {p[2]:.1f}"


def _incremental_rows(label: str, found: dict[str, list[float]]) -> list[list[object]]:
    base = float(np.median(found["bare"]))
    names = {
        "new": "submit 1 new record",
        "update": "submit 1 update (stored record)",
        "stubbed": "submit 1 new, linking stubbed",
        "bare": "bare txn: lock + insert 1 row",
    }
    rows: list[list[object]] = []
    for kind, name in names.items():
        med = float(np.median(found[kind]))
        target = "p50<=10, p99<=50" if kind in ("new", "update") else "-"
        rows.append([label, f"{name} p50/p95/p99 ms (n={len(found[kind])})", _ms(found[kind]),
                     target, f"{med / base:.1f}x bare"])  # fmt: skip
    rows.append([label, "subject merges (new / update / stubbed)",
                 " / ".join(f"{m:.0f}" for m in found["merges"]), "-", "-"])  # fmt: skip
    return rows


def _load_rows(label: str, runs: list[LoadRun]) -> list[list[object]]:
    floor = {r.offered: r for r in runs if r.target == "healthz"}
    rows: list[list[object]] = []
    for r in runs:
        cpu = r.cpu or {}
        share = ", ".join(f"{k} {100 * v:.0f}%" for k, v in cpu.items())
        target = ">=300/s, p99<=50" if r.target.startswith("resolve") else "-"
        base = floor.get(r.offered)
        ratio = (
            f"p99 {r.p99 / base.p99:.1f}x healthz" if base and base.p99 and r is not base else "-"
        )
        rows.append([label, f"{r.target} @ {r.offered}/s offered: req/s, fail, p50/p95/p99 ms",
                     f"{r.rate:.0f}, {r.failures}/{r.requests}, {r.p50:.0f} / {r.p95:.0f} / "
                     f"{r.p99:.0f}", target, ratio])  # fmt: skip
        rows.append([label, "  CPU during it (% of one core; 2 cores = 200%)", share, "-", "-"])
    return rows


# --- main ----------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> list[list[object]]:
    """Every step in order; returns the summary rows."""
    label = size_label(args.records)
    url = _schema_url(args.database_url, args.schema)
    total = args.records + 3 * args.singles
    rows: list[list[object]] = []
    start = time.perf_counter()
    dataset = ensure_synthetic(args.workdir, total, args.seed)
    paths = _encoded(dataset, args.reencode)
    split = _split(total, args.singles, args.seed)
    rows.append([label, "generate + encode s (cached when 0)",
                 f"{time.perf_counter() - start:.1f}", "-", "-"])  # fmt: skip
    print(f"data: {dataset.directory}", flush=True)
    if not args.skip_build:
        start = time.perf_counter()
        _fresh_schema(args.database_url, args.schema)
        built = run_in_child(build_store, url, paths, split, args.train_sample, dataset.truth)
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in built.result["times"].items())
        rows.append([label, "store build s", f"{time.perf_counter() - start:.1f}", "-",
                     f"{stages}; peak {built.peak_rss_mib:.0f} MiB"])  # fmt: skip
        rows.append([label, "model trained on / subjects from",
                     f"{built.result['trained_on']} / {built.result['subjects']}", "-",
                     f"{built.result['subject_count']} subjects"])  # fmt: skip
        print(f"  built: {stages}", flush=True)
    held = _lines(paths, split.queries)
    token = _responder_token(url, orjson.loads(held[0])["key_id"])
    queries = [_query(line) for line in held]
    load = run_in_child(measure_load, url, token, queries).result
    rows.append([label, "LinkService.load() s / of which row fetch s",
                 f"{load['seconds']:.1f} / {load['fetch']:.1f}", "-",
                 f"{load['records']:.0f} live records"])  # fmt: skip
    rows.append([label, "RSS after load GiB (index+rows) / process / peak",
                 f"{load['rss'] / 2**30:.2f} / {load['rss_total'] / 2**30:.2f} / "
                 f"{load['peak'] / 2**30:.2f}", "-", "-"])  # fmt: skip
    rows.append(
        [
            label,
            "resolve steps in process, median ms",
            ", ".join(f"{k} {v:.2f}" for k, v in load["steps"].items()),
            "-",
            "one call at a time",
        ]
    )
    print(f"  load {load['seconds']:.1f}s", flush=True)
    if not args.skip_incremental:
        lines = _lines(paths, np.concatenate([split.new, split.updates, split.stubbed]))
        n = args.singles
        found = run_in_child(measure_incremental, url, lines[:n], lines[n : 2 * n], lines[2 * n :])
        rows += _incremental_rows(label, found.result)
        print("  incremental done", flush=True)
    if not args.skip_resolve:
        rows += _load_rows(label, _resolve_runs(args, url, token, queries))
    return rows


def _resolve_runs(
    args: argparse.Namespace, url: str, token: str, queries: list[bytes]
) -> list[LoadRun]:
    out = args.workdir / f"service-{args.schema}-{size_label(args.records)}"
    out.mkdir(parents=True, exist_ok=True)
    query_file = out / "queries.jsonl"
    query_file.write_bytes(b"\n".join(queries))
    env = {**os.environ, "CROSSWALK_BENCH_TOKEN": token, "CROSSWALK_BENCH_QUERIES": str(query_file)}
    runs: list[LoadRun] = []
    with crosswalk_server(url, args.workers, args.port, out / "server.log", args.startup_timeout,
                          indent="  ") as server:  # fmt: skip
        rss = sum(p.memory_info().rss for p in _workers(server)) / 2**30
        print(f"  server workers' RSS {rss:.2f} GiB", flush=True)
        _check_resolve(args.port, token, query_file)
        for rate in args.resolve_rate:
            for user in ("HealthzUser", "ResolveUser", "paced"):
                if user == "paced":
                    runs.append(_paced_run(rate, args, env, server, query_file))
                else:
                    runs.append(_locust(user, rate, args, env, server, out))
                r = runs[-1]
                print(f"  {r.target} @ {rate}/s: {r.rate:.0f}/s, p50 {r.p50:.0f} p99 {r.p99:.0f}"
                      f" ms, {r.failures} failures", flush=True)  # fmt: skip
    if args.profile and (out / "resolve-profile.txt").exists():
        print(_profile_summary(out / "resolve-profile.txt"))
    return runs


def _check_resolve(port: int, token: str, queries: Path, count: int = 50) -> None:
    """Resolve the first ``count`` queries once: all must answer; how many find someone."""
    found = 0
    for body in queries.read_bytes().split(b"\n")[:count]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/subjects/resolve", data=body, method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            found += bool(orjson.loads(response.read())["candidates"])
    print(f"  {found} of {count} sample queries have a candidate", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, run every step, print the table."""
    args = _parser().parse_args(argv)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"bench_service: {os.cpu_count()} CPUs; load {load}", flush=True)
    try:
        rows = run(args)
    finally:
        if args.drop_schema:
            from sqlalchemy import create_engine, text

            engine = create_engine(_settings(args.database_url).database_url)
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE'))
            engine.dispose()
    print()
    print(format_table(("store", "figure", "value", "target", "note"), rows))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nload average at the end: {load}")


if __name__ == "__main__":
    main()
