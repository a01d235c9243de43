"""The audit log on PostgreSQL: write throughput, added latency, verification time.

Usage (from the repository root; needs a PostgreSQL server, by default the test one)::

    python -m benchmarks.bench_audit [--postgres-url URL] [--writers 16] [--events 4800]
                                     [--latency-acts 300] [--verify-events 1000000] [--runs 3]

Everything runs in a fresh schema (dropped at the end). Figures are medians of
``--runs``; the baselines are measured in the same run on the same server:

* **write** — ``--writers`` processes each commit ``--events / writers``
  transactions of one event. ``plain`` inserts the same event values into a
  copy of ``audit_event`` (same columns and indexes, no trigger, no chain): the
  floor. ``audit`` is :func:`api.hub.audit.record` with the sealer chaining and
  signing in the background; its rate counts until the *last event is sealed*.
  ``inline chain`` locks a head row and chains inside each writer's transaction
  (the design not taken: the lock is held through every commit). Target for
  ``audit``: ≥ 2,000 events/s.
* **latency** — 4 processes run small acts (an UPDATE, or a read), alternately
  without and with their audit event (so both see the same load on a shared
  machine); p50/p99 per act, and what the event adds.
  Target: ≤ 2 ms. A read-only act that must log becomes a write transaction,
  so it pays one WAL flush; ``bare commit`` shows what one costs on this disk.
* **verify** — ``--verify-events`` events are written and sealed (sealing
  rate reported), then :func:`api.hub.audit.verify.verify_log` checks them all.
  Baseline: streaming the same rows without hashing. Target: 1M in ≤ 30 s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.synchronize import Barrier
from typing import Any

from sqlalchemy import Engine, column, insert, table, text

from api.db import make_engine, session_scope
from api.hub.audit import EventKind, record
from api.hub.audit.events import build_event, canonical_bytes
from api.hub.audit.merkle import leaf_hash
from api.hub.audit.sealer import EVENT_COLUMNS, AuditSealer, SealPolicy
from api.hub.audit.signing import TreeHeadSigner, parse_private_key
from api.hub.audit.tables import AuditEvent
from api.hub.audit.verify import verify_log
from api.hub.settings import DEV_SIGNING_SEED
from benchmarks.common import format_table, fresh_schema

DEFAULT_URL = os.environ.get(
    "CROSSWALK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _event(i: int, worker: int) -> dict[str, Any]:
    return build_event(
        EventKind.SUBJECT_VIEW,
        subject_id=f"S-{i:016x}",
        agency="county_bh",
        withheld=["medical", "substance_use"],
        decision="deny",
        rule="no_policy",
        purpose="crisis_response",
        client="10.1.2.3",
        request_id=f"w{worker}-{i}",
        details={"withheld": {"medical": "no_policy", "substance_use": "no_policy"}},
    ).values


# --- writer processes -------------------------------------------------------------------
def _writer(
    url: str, variant: str, worker: int, events: int, barrier: Barrier
) -> tuple[float, float]:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    names = [c.name for c in AuditEvent.__table__.c if c.name != "id"]  # type: ignore[attr-defined]
    plain = table("bench_plain", *(column(n) for n in names))
    try:
        barrier.wait(timeout=120)
        start = time.time()
        for i in range(events):
            with session_scope(engine) as session:
                if variant == "plain":
                    session.connection().execute(insert(plain), _event(i, worker))
                elif variant == "audit":
                    record(session, EventKind.SUBJECT_VIEW, **_kwargs(i, worker))
                else:
                    _inline_chain(session, i, worker)
        return start, time.time()
    finally:
        engine.dispose()


def _kwargs(i: int, worker: int) -> dict[str, Any]:
    """The arguments of :func:`record` that give :func:`_event`'s values (built by ``record``)."""
    return {
        "subject_id": f"S-{i:016x}",
        "agency": "county_bh",
        "withheld": ["medical", "substance_use"],
        "decision": "deny",
        "rule": "no_policy",
        "purpose": "crisis_response",
        "client": "10.1.2.3",
        "request_id": f"w{worker}-{i}",
        "details": {"withheld": {"medical": "no_policy", "substance_use": "no_policy"}},
    }


def _inline_chain(session: Any, i: int, worker: int) -> None:
    """The rejected design: insert, then lock the head and chain inside the act."""
    connection = session.connection()
    values = _event(i, worker)
    connection.execute(text("INSERT INTO bench_inline (body) VALUES (:b)"), {"b": str(values)})
    size, last = connection.execute(
        text("SELECT size, last_hash FROM bench_head WHERE id = 1 FOR UPDATE")
    ).one()
    row = [size + 1, *(values[c.name] for c in EVENT_COLUMNS[1:])]
    entry = leaf_hash(last + canonical_bytes(row))
    connection.execute(
        text("UPDATE bench_head SET size = :s, last_hash = :h WHERE id = 1"),
        {"s": size + 1, "h": entry},
    )


def _run_writers(url: str, variant: str, writers: int, events: int) -> tuple[float, float]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(writers)
    per = events // writers
    with context.Pool(writers) as pool:
        spans = pool.starmap(_writer, [(url, variant, w, per, barrier) for w in range(writers)])
    return min(s for s, _ in spans), max(e for _, e in spans)


@contextmanager
def _background_sealer(engine: Engine) -> Iterator[AuditSealer]:
    sealer = AuditSealer(engine, TreeHeadSigner(parse_private_key(DEV_SIGNING_SEED)), SealPolicy())
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.05):
            sealer.seal()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield sealer
    finally:
        stop.set()
        thread.join()


def _pending(engine: Engine) -> int:
    with engine.connect() as db:
        count: int = db.execute(text("SELECT count(*) FROM audit_pending")).scalar_one()
        return count


def write_rates(engine: Engine, url: str, writers: int, events: int) -> dict[str, float]:
    """Events per second of each variant (one run)."""
    rates = {}
    start, end = _run_writers(url, "plain", writers, events)
    rates["plain insert (baseline)"] = events / (end - start)
    with _background_sealer(engine) as sealer:
        start, end = _run_writers(url, "audit", writers, events)
        while _pending(engine):
            time.sleep(0.01)
        sealed_at = time.time()
    sealer.seal()
    rates["audit: written"] = events / (end - start)
    rates["audit: written and sealed"] = events / (sealed_at - start)
    start, end = _run_writers(url, "inline", writers, events)
    rates["inline chain (rejected design)"] = events / (end - start)
    return rates


# --- latency ------------------------------------------------------------------------------
def _acts(url: str, kind: str, worker: int, acts: int, barrier: Barrier) -> dict[bool, list[float]]:
    """Alternate the act without and with its event, so both see the same load."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    times: dict[bool, list[float]] = {False: [], True: []}
    try:
        barrier.wait(timeout=120)
        for i in range(2 * acts):
            audited = bool(i % 2)
            started = time.perf_counter()
            with session_scope(engine) as session:
                connection = session.connection()
                if kind == "write":
                    connection.execute(
                        text("UPDATE bench_act SET n = n + 1 WHERE id = :w"), {"w": worker}
                    )
                elif kind == "read":
                    connection.execute(text("SELECT n FROM bench_act WHERE id = :w"), {"w": worker})
                else:  # bare commit: the smallest write transaction
                    connection.execute(text("INSERT INTO bench_inline (body) VALUES ('x')"))
                if audited and kind != "bare":
                    record(session, EventKind.SUBJECT_VIEW, **_kwargs(i, worker))
            times[audited].append((time.perf_counter() - started) * 1000)
        return times
    finally:
        engine.dispose()


def latencies(url: str, acts: int, processes: int = 4) -> dict[str, tuple[float, float]]:
    """p50/p99 (ms) of each act, with and without its event (interleaved)."""
    context = multiprocessing.get_context("spawn")
    out = {}
    for kind in ("write", "read", "bare"):
        barrier = context.Manager().Barrier(processes)
        with context.Pool(processes) as pool:
            runs = pool.starmap(_acts, [(url, kind, w, acts, barrier) for w in range(processes)])
        for audited in (False, True):
            if kind == "bare" and audited:
                continue
            samples = sorted(t for run in runs for t in run[audited])
            label = (
                "bare commit" if kind == "bare" else f"{kind} act" + (" + event" if audited else "")
            )
            out[label] = (statistics.median(samples), samples[int(len(samples) * 0.99) - 1])
    return out


# --- verification ------------------------------------------------------------------------
def fill(engine: Engine, events: int, chunk: int = 20_000) -> float:
    """Write ``events`` events in bulk (the trigger queues them); returns seconds."""
    started = time.perf_counter()
    rows = [_event(i, 0) for i in range(chunk)]
    with engine.begin() as db:
        for done in range(0, events, chunk):
            db.execute(insert(AuditEvent), rows[: min(chunk, events - done)])
    return time.perf_counter() - started


def verify_times(engine: Engine, runs: int) -> tuple[list[float], list[float], Any]:
    """Seconds of ``verify_log`` and of plainly streaming the same rows, per run."""
    public_key = parse_private_key(DEV_SIGNING_SEED).public_key()
    verify, stream, report = [], [], None
    for _ in range(runs):
        with engine.connect() as db:
            started = time.perf_counter()
            report = verify_log(db, public_key)
            verify.append(time.perf_counter() - started)
        with engine.connect() as db:
            started = time.perf_counter()
            query = text(
                "SELECT c.seq, c.event_id, c.prev_hash, c.entry_hash, e.* FROM audit_chain c "
                "LEFT JOIN audit_event e ON e.id = c.event_id ORDER BY c.seq"
            )
            for _row in db.execution_options(yield_per=20_000).execute(query):
                pass
            stream.append(time.perf_counter() - started)
    return verify, stream, report


# --- harness ------------------------------------------------------------------------------
@contextmanager
def bench_schema(base_url: str) -> Iterator[str]:
    """A fresh, migrated schema with the baselines' tables; yields its URL, drops it after."""
    with fresh_schema(base_url, "bench_audit") as url:
        engine = make_engine(url)
        with engine.begin() as db:
            db.execute(text("CREATE TABLE bench_plain (LIKE audit_event INCLUDING ALL)"))
            db.execute(text("CREATE TABLE bench_inline (id bigserial PRIMARY KEY, body text)"))
            db.execute(
                text("CREATE TABLE bench_head (id int PRIMARY KEY, size bigint, last_hash bytea)")
            )
            db.execute(text("INSERT INTO bench_head VALUES (1, 0, :h)"), {"h": bytes(32)})
            db.execute(text("CREATE TABLE bench_act (id int PRIMARY KEY, n bigint)"))
            db.execute(text("INSERT INTO bench_act SELECT g, 0 FROM generate_series(0, 63) g"))
        engine.dispose()
        yield url


def _median_of(runs: int, fn: Callable[[], dict[str, float]]) -> dict[str, float]:
    results = [fn() for _ in range(runs)]
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main() -> None:
    """Run every measurement and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres-url", default=DEFAULT_URL)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--events", type=int, default=4800, help="events per write run")
    parser.add_argument("--latency-acts", type=int, default=300, help="acts per process")
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"PostgreSQL at {args.postgres_url}; {os.cpu_count()} CPUs; medians of {args.runs} runs")
    with bench_schema(args.postgres_url) as url:
        engine = make_engine(url)
        rates = _median_of(args.runs, lambda: write_rates(engine, url, args.writers, args.events))
        print(f"\nwrite throughput, {args.writers} writer processes, 1 event per transaction")
        print(format_table(["variant", "events/s"], [(k, f"{v:,.0f}") for k, v in rates.items()]))

        lat = latencies(url, args.latency_acts)
        print(f"\nlatency of an act (ms), 4 processes x {args.latency_acts} acts")
        print(
            format_table(
                ["act", "p50", "p99"], [(k, f"{a:.2f}", f"{b:.2f}") for k, (a, b) in lat.items()]
            )
        )
        for kind in ("write", "read"):
            p50 = lat[f"{kind} act + event"][0] - lat[f"{kind} act"][0]
            p99 = lat[f"{kind} act + event"][1] - lat[f"{kind} act"][1]
            print(f"added by the event to a {kind} act: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        print("target: <= 2 ms added at p99")

        with engine.connect() as db:
            have = db.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
        missing = max(0, args.verify_events - have)
        filled = fill(engine, missing)
        sealer = AuditSealer(
            engine, TreeHeadSigner(parse_private_key(DEV_SIGNING_SEED)), SealPolicy(batch=20_000)
        )
        started = time.perf_counter()
        sealed = sealer.seal()
        seal_seconds = time.perf_counter() - started
        verify, stream, report = verify_times(engine, args.runs)
        engine.dispose()
    print(f"\nverification of {report.events:,} events ({report.heads_checked} signed heads)")
    print(
        format_table(
            ["step", "seconds", "events/s"],
            [
                (
                    "bulk write (setup)",
                    f"{filled:.1f}",
                    f"{missing / filled:,.0f}" if filled else "-",
                ),
                ("seal (chain + sign)", f"{seal_seconds:.1f}", f"{sealed / seal_seconds:,.0f}"),
                ("stream rows (baseline)", f"{statistics.median(stream):.1f}", ""),
                (
                    "verify_log",
                    f"{statistics.median(verify):.1f}",
                    f"{report.events / statistics.median(verify):,.0f}",
                ),
            ],
        )
    )
    print(f"intact: {report.intact}; verify target: 1M events <= 30 s")


if __name__ == "__main__":
    main()
