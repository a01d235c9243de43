"""Bulk submission throughput: validation, context encryption, linking and the write.

Usage (from the repository root; PostgreSQL reachable)::

    python -m benchmarks.bench_submit                         # 10k new onto 10k stored
    python -m benchmarks.bench_submit --records 50000 --stored 100000 --modes service,copy
    python -m benchmarks.bench_submit --url sqlite:////tmp/submit.db   # the embedded store

Data: a generated set (:mod:`tools.synthetic`, what ``python -m tools.synthetic
--records N`` writes; cached in ``--workdir``) of ``--stored + --records`` records,
encoded under one throw-away key with the agencies' context columns carried as
context, as ``crosswalk demo`` does (cached beside it; ``--reencode`` refreshes).
A batch run (``link_table``) over all of them trains the model; ``--stored`` records,
drawn at random, are the store every run starts from (written with their batch
subjects, not timed), the others are submitted, per agency in batches of ``--batch``.

Each run starts from a fresh store (schema ``--schema`` on PostgreSQL, dropped at the
end; a new file on SQLite) and times, in a freshly spawned process, one mode:

* ``service`` — :meth:`LinkService.submit` per batch: validation, table, encryption,
  incremental linking, review queue and the write, as the route runs them;
* ``service-2t`` — the same from two threads (as two concurrent requests to one
  worker): one batch is validated and encrypted while another holds the linking lock;
* ``http`` — ``POST /v1/records`` through a ``TestClient`` (authentication, audit,
  the thread pool hand-off and the JSON response on top);
* ``copy`` — the same rows (encodings and ciphertexts made beforehand) written by
  :func:`api.hub.records.store.upsert_records` alone, one transaction per batch:
  the service's own write path without validation, encryption or linking;
* ``insert`` — the same rows by plain SQLAlchemy ``executemany`` INSERTs (records with
  ``RETURNING id``, then their context rows): a straightforward bulk INSERT baseline.

Printed: records/s of every mode (median of ``--runs``); CPU time per record of the
measuring process and of its PostgreSQL backends (read from ``/proc`` when the server
is local), which a busy shared machine distorts far less than wall time; and each
mode's time over the ``copy`` and ``insert`` baselines (how much validation,
encryption and linking add to a bare write). Target: ``service`` ≥ 5,000 records/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import format_table, run_in_child
from benchmarks.options import add_common_arguments, size_label
from benchmarks.synthetic_cache import SyntheticSet, ensure_synthetic

__all__ = ["main"]

_DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
_MODES = ("service", "service-2t", "http", "copy", "insert")
_TARGET = 5000.0
#: Context columns of the generated agencies, by data category (as the demo encodes them).
_CONTEXT: dict[str, dict[str, list[str]]] = {
    "police_cad": {
        "safety_flags": ["weapons", "officer_safety_note"],
        "communication_needs": ["language"],
    },
    "behavioral_health": {
        "behavioral_health": ["crisis_plan", "clinician_contact"],
        "communication_needs": ["language", "interpreter_needed"],
        "substance_use": ["substance_use_note"],
    },
    "homeless_services": {
        "housing": ["shelter_status", "case_manager"],
        "communication_needs": ["language"],
    },
}

Batch = tuple[str, bytes]  # agency, NDJSON body


# --- data ----------------------------------------------------------------------------
def _encode_with_context(csvs: dict[str, Path], out_dir: Path) -> None:
    """Encode every agency CSV under one fresh key, carrying its context columns."""
    from linkage.encode.encode_file import encode_csv
    from linkage.encode.encoding import RecordEncoder
    from linkage.encode.keys import LinkageSecret, generate_secret
    from linkage.schema import default_schema

    secret, schema = LinkageSecret(generate_secret()), default_schema()
    for agency, source in csvs.items():
        encoder = RecordEncoder(schema, secret, agency)
        encode_csv(source, out_dir / f"{agency}.jsonl", encoder, context=_CONTEXT.get(agency))


def _encoded(dataset: SyntheticSet, reencode: bool) -> list[Path]:
    directory = dataset.directory / "encoded-submit"
    paths = [directory / f"{agency}.jsonl" for agency in dataset.agency_csvs]
    if reencode or not all(p.exists() for p in paths):
        directory.mkdir(exist_ok=True)
        run_in_child(_encode_with_context, dataset.agency_csvs, directory)
    return paths


def _split(paths: list[Path], stored: int, batch: int, seed: int) -> tuple[list[Batch], list[int]]:
    """Submission batches of the new records, and the global rows of the stored ones."""
    lines = [(p.stem, line) for p in paths for line in p.read_bytes().splitlines()]
    chosen = np.zeros(len(lines), dtype=bool)
    chosen[np.random.default_rng(seed).permutation(len(lines))[:stored]] = True
    batches: list[Batch] = []
    for path in paths:
        new = [line for (agency, line), keep in zip(lines, chosen, strict=True)
               if agency == path.stem and not keep]  # fmt: skip
        for start in range(0, len(new), batch):
            batches.append((path.stem, b"\n".join(new[start : start + batch]) + b"\n"))
    return batches, np.flatnonzero(chosen).tolist()


# --- stores --------------------------------------------------------------------------
def _settings(url: str) -> Any:
    from api.hub.settings import Settings

    return Settings(database_url=url, environment="development")


@contextmanager
def _fresh_store(base: str, schema: str, tag: str) -> Iterator[str]:
    """A database URL of an empty store (schema dropped, or file deleted, afterwards)."""
    from sqlalchemy import create_engine, text

    if base.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="bench-submit-") as directory:
            yield f"sqlite:///{directory}/{tag}.db"
        return
    admin = create_engine(_settings(base).database_url)

    def reset(create: bool) -> None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            if create:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    reset(create=True)
    try:
        joiner = "&" if "?" in base else "?"
        yield f"{base}{joiner}options=-csearch_path%3D{schema}"
    finally:
        reset(create=False)
        admin.dispose()


def _prepare(url: str, model: Any, table: Any, subjects: list[str]) -> None:
    """Migrate, create the agencies, import the model and write the stored records."""
    from api.db import make_engine, session_scope
    from api.hub.identity import service as identity
    from api.hub.linking.models import import_model
    from api.hub.migrations import upgrade_database
    from api.hub.records.store import NewRecord, upsert_records
    from linkage.row_codec import row_blobs

    settings = _settings(url)
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    with session_scope(engine) as session:
        for agency in _CONTEXT:
            identity.create_agency(session, agency, settings.master_key_bytes())
        import_model(session, model)
    blobs = row_blobs(table)
    by_agency: dict[str, list[NewRecord]] = {}
    for (agency, rid), blob, subject in zip(table.keys(), blobs, subjects, strict=True):
        record = NewRecord(rid, table.schema_version, table.key_id, blob, subject, 0.0, {})
        by_agency.setdefault(agency, []).append(record)
    with session_scope(engine) as session:
        for agency, records in by_agency.items():
            upsert_records(session, agency, records, 0)
    engine.dispose()


# --- the measured runs (each in a spawned child) ------------------------------------------
_APP_NAME = "bench-submit"
_PROFILE_ENV = "CROSSWALK_BENCH_PROFILE"


@dataclass(frozen=True)
class Measured:
    """One timed run: wall time, and CPU time of this process and of its PostgreSQL
    backends (``None`` when they cannot be read), which a shared machine inflates less."""

    seconds: float
    client_cpu: float
    server_cpu: float | None


def _tagged(url: str) -> str:
    """``url`` with an application name, to find the run's PostgreSQL backends."""
    if url.startswith("sqlite"):
        return url
    return f"{url}{'&' if '?' in url else '?'}application_name={_APP_NAME}"


def _backend_cpu(url: str) -> dict[int, float] | None:
    """CPU seconds of every backend serving the tagged connections (local server only)."""
    from sqlalchemy import create_engine, text

    if url.startswith("sqlite"):
        return {}
    engine = create_engine(_settings(url).database_url)
    with engine.connect() as connection:
        query = text("SELECT pid FROM pg_stat_activity WHERE application_name = :name")
        pids = connection.execute(query, {"name": _APP_NAME}).scalars().all()
    engine.dispose()
    ticks, out = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None  # the server runs elsewhere
        out[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return out


class _Clock:
    """Times the body of a ``with`` block (see :class:`Measured`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.result: Measured | None = None

    def __enter__(self) -> _Clock:
        self.start = (time.perf_counter(), time.process_time(), _backend_cpu(self.url))
        return self

    def __exit__(self, *exc: object) -> None:
        wall, cpu, before = self.start
        after = _backend_cpu(self.url)
        server = None
        if before is not None and after is not None:
            server = sum(t - before.get(pid, 0.0) for pid, t in after.items())
        elapsed = time.perf_counter() - wall
        self.result = Measured(elapsed, time.process_time() - cpu, server)


def measure(mode: str, url: str, batches: list[Batch]) -> Measured:
    """Time submitting (or writing) every batch in ``mode``; set-up is not timed."""
    from api.db import make_engine

    clock = _Clock(url)  # looks for the backends over an untagged connection
    url = _tagged(url)
    engine = make_engine(_settings(url).database_url)
    try:
        if mode.startswith("service"):
            threads = 2 if mode == "service-2t" else 1
            _measure_service(engine, url, batches, clock, threads)
        elif mode == "http":
            _measure_http(url, batches, clock)
        else:
            _measure_write(engine, url, batches, mode, clock)
    finally:
        engine.dispose()
    assert clock.result is not None
    return clock.result


def _measure_service(
    engine: Any, url: str, batches: list[Batch], clock: _Clock, threads: int
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from api.hub.identity.service import Principal
    from api.hub.linking.service import LinkService
    from api.web.metrics import Metrics
    from policy.vocabulary import Role

    service = LinkService(engine, _settings(url), Metrics())
    service.load()
    stewards = {a: Principal(-1, f"bench-{a}", Role.DATA_STEWARD, a) for a in _CONTEXT}
    if threads == 1:  # in this thread (so --profile sees it)
        with _profiled(), clock:
            for agency, body in batches:
                service.submit(stewards[agency], body)
    else:
        with clock, ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(lambda batch: service.submit(stewards[batch[0]], batch[1]), batches))
    service.close()


@contextmanager
def _profiled() -> Iterator[None]:
    """cProfile the block when ``--profile`` asked for it."""
    if not os.environ.get(_PROFILE_ENV):
        yield
        return
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(os.environ[_PROFILE_ENV])
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)


def _measure_http(url: str, batches: list[Batch], clock: _Clock) -> None:
    from fastapi.testclient import TestClient

    from api.db import session_scope
    from api.hub.app import create_app
    from api.hub.identity import service as identity

    app = create_app(_settings(url), migrate=False)
    with TestClient(app) as client:
        headers = {}
        with session_scope(app.state.services.engine) as session:
            for agency in _CONTEXT:
                identity.create_user(session, f"bench-{agency}", "data_steward", agency)
                token = identity.issue_token(session, f"bench-{agency}", 1)
                headers[agency] = {
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/x-ndjson",
                }
        with clock:
            for agency, body in batches:
                response = client.post("/v1/records", content=body, headers=headers[agency])
                if response.status_code != 200:
                    raise RuntimeError(f"submission refused: HTTP {response.status_code}")


def _stored_form(engine: Any, url: str, batches: list[Batch]) -> list[tuple[str, list[Any]]]:
    """Each batch as the rows the service writes (encodings, ciphertexts), not timed."""
    from sqlmodel import Session

    from api.hub.context_crypto import encrypt_contexts, unwrap_data_key
    from api.hub.identity.service import get_agency
    from api.hub.records.store import NewRecord
    from linkage.records import parse_encoded_line
    from linkage.row_codec import row_blobs
    from linkage.table import table_from_records

    master = _settings(url).master_key_bytes()
    with Session(engine) as session:
        keys = {
            a: unwrap_data_key(master, get_agency(session, a).wrapped_data_key, a) for a in _CONTEXT
        }
    out = []
    for agency, body in batches:
        records = [parse_encoded_line(line) for line in body.splitlines()]
        blobs = row_blobs(table_from_records(records))
        pairs = [(r.record_id, r.context) for r in records]
        contexts = encrypt_contexts(keys[agency], pairs, agency=agency)
        rows = [
            NewRecord(r.record_id, r.schema_version, r.key_id, blob, f"S-{r.record_id}", 0.0, c)
            for r, blob, c in zip(records, blobs, contexts, strict=True)
        ]
        out.append((agency, rows))
    return out


def _measure_write(engine: Any, url: str, batches: list[Batch], mode: str, clock: _Clock) -> None:
    from api.db import session_scope
    from api.hub.records.store import upsert_records

    prepared = _stored_form(engine, url, batches)
    with clock:
        for seq, (agency, rows) in enumerate(prepared, start=1):
            with session_scope(engine) as session:
                if mode == "copy":
                    upsert_records(session, agency, rows, seq)
                else:
                    _plain_insert(session, agency, rows, seq)


def _plain_insert(session: Any, agency: str, rows: Sequence[Any], seq: int) -> None:
    from sqlalchemy import insert

    from api.db import utcnow
    from api.hub.records.tables import RecordContext, StoredRecord

    now = utcnow()
    table = StoredRecord.__table__  # type: ignore[attr-defined]
    values = [
        {"agency": agency, "record_id": r.record_id, "schema_version": r.schema_version,
         "key_id": r.key_id, "encoding": r.encoding, "subject_id": r.subject_id,
         "match_probability": r.match_probability, "retracted": False, "change_seq": seq,
         "updated_at": now}
        for r in rows
    ]  # fmt: skip
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = session.connection().execute(statement, values).scalars().all()
    contexts = [
        {"record_pk": pk, "category": category, "ciphertext": blob}
        for pk, r in zip(ids, rows, strict=True)
        for category, blob in r.context.items()
    ]
    if contexts:
        session.connection().execute(insert(RecordContext), contexts)


# --- driver --------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> list[list[object]]:
    """Prepare the data, run every mode ``--runs`` times; returns the table rows."""
    from linkage.match.pipeline import link_table
    from linkage.match.table_ops import take_rows
    from linkage.table import load_encoded_files

    dataset = ensure_synthetic(args.workdir, args.stored + args.records, args.seed)
    paths = _encoded(dataset, args.reencode)
    batches, stored_rows = _split(paths, args.stored, args.batch, args.seed)
    new = sum(body.count(b"\n") for _agency, body in batches)
    batch_run = link_table(load_encoded_files(paths))
    rows_idx = np.asarray(stored_rows, dtype=np.int64)
    stored_table = take_rows(batch_run.table, rows_idx)
    subjects = [batch_run.subject_ids[i] for i in stored_rows]
    found: dict[str, list[Measured]] = {}
    for mode in args.modes:
        for n in range(args.runs):
            with _fresh_store(args.url, args.schema, f"{mode}-{n}") as url:
                _prepare(url, batch_run.model, stored_table, subjects)
                got = run_in_child(measure, mode, url, batches).result
            found.setdefault(mode, []).append(got)
            print(f"{mode:10s} run {n + 1}: {new / got.seconds:8,.0f} records/s, "
                  f"CPU {_cpu_text(got, new)}", flush=True)  # fmt: skip
    return _rows(args, new, found)


def _cpu_text(got: Measured, records: int) -> str:
    """CPU microseconds per record: this process + the database server."""
    client = got.client_cpu / records * 1e6
    if got.server_cpu is None:
        return f"{client:.0f} us/record (server n/a)"
    server = got.server_cpu / records * 1e6
    return f"{client:.0f} + {server:.0f} server = {client + server:.0f} us/record"


def _rows(
    args: argparse.Namespace, new: int, found: dict[str, list[Measured]]
) -> list[list[object]]:
    label = f"{size_label(new)} onto {size_label(args.stored) if args.stored else 0}"
    median = {m: statistics.median(new / r.seconds for r in runs) for m, runs in found.items()}
    rows: list[list[object]] = []
    for mode, rate in median.items():
        ratios = [f"{median[b] / rate:.2f}x {b}" for b in ("copy", "insert") if b in median]
        measured = mode.startswith("service") or mode == "http"
        target = ("PASS" if rate >= _TARGET else "FAIL") if measured else "info"
        runs = ", ".join(f"{new / r.seconds:,.0f}" for r in found[mode])
        middle = sorted(found[mode], key=lambda r: r.seconds)[len(found[mode]) // 2]
        rows.append([label, mode, f"{rate:,.0f}", runs, _cpu_text(middle, new),
                     " / ".join(ratios) or "-", target])  # fmt: skip
    return rows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--url", default=_DEFAULT_URL, help=f"database (default {_DEFAULT_URL})")
    parser.add_argument("--schema", default="bench_submit", help="PostgreSQL schema (dropped)")
    parser.add_argument("--records", type=int, default=10_000, help="records submitted")
    parser.add_argument("--stored", type=int, default=10_000, help="records already stored")
    parser.add_argument("--batch", type=int, default=1000, help="records per submission")
    parser.add_argument("--runs", type=int, default=3, help="runs per mode (median reported)")
    parser.add_argument(
        "--modes",
        type=lambda text: [m.strip() for m in text.split(",") if m.strip()],
        default=list(_MODES),
        help=f"comma-separated, of {', '.join(_MODES)}",
    )
    parser.add_argument("--reencode", action="store_true", help="re-encode the cached data")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the service mode (timings inflate; stats also in WORKDIR/bench_submit.prof)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, run, print the figures."""
    args = _parser().parse_args(argv)
    if args.profile:
        os.environ[_PROFILE_ENV] = str(args.workdir / "bench_submit.prof")  # read by the child
    unknown = set(args.modes) - set(_MODES)
    if unknown:
        raise SystemExit(f"unknown mode(s): {', '.join(sorted(unknown))}")
    rows = run(args)
    headers = ("records", "mode", "records/s (median)", "runs", "CPU (median run)",
               "time vs baselines", "target")  # fmt: skip
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
