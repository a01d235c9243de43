"""A whole subject view through ``crosswalk serve`` on PostgreSQL, its audit write included.

Usage (from the repository root; needs a PostgreSQL server, by default the test one)::

    python -m benchmarks.bench_subject_view [--requests 1000] [--warmup 100] [--rounds 5]
        [--concurrency 1] [--agencies 10] [--rules 2000] [--workers 1] [--port 8131]
        [--database-url URL] [--profile]

Set-up, in a fresh schema (``bench_subject_view_<random>``, dropped at the end):
``--agencies`` agencies (plus ``outside_agency``, which holds nothing and which no
agency shares with), a data steward per agency, six responders at the first agencies,
a linkage reviewer; a random but realistic policy of ``--rules`` rules
(:func:`benchmarks.bench_policy.generate_rules` over these agencies, about half the
agency pairs opted in) imported with :func:`api.hub.policies.admin.import_policy`
(what ``crosswalk policy import`` runs). Then ``crosswalk serve`` starts on
``--port`` and, over HTTP, every steward submits one encoded record of the same
person whose context has values in all eleven categories, and a few stewards record
consents (``--consents``). Making the ten records one subject (what linking would
do) goes straight to the store, as in the API tests.

Measured, with one ``httpx`` client per thread (keep-alive; ``--concurrency`` threads,
sequential requests in each), ``--requests`` requests per line after ``--warmup``,
in ``--rounds`` interleaved blocks so every line sees the same background load:

* ``GET /healthz`` — the HTTP stack's floor (no database, no token);
* ``GET /v1/subjects/{id}/records`` — a linkage reviewer: token check, one query, one
  audit event, commit;
* ``GET /v1/subjects/{id}?purpose=…`` as ``outside_agency``'s dispatcher: the same
  view with no agency disclosing (10 × 11 decisions and 10 audit events, nothing
  decrypted);
* ``GET /v1/subjects/{id}?purpose=…`` as the responders, every responder × purpose in
  turn — the figure with the target: **p99 ≤ 20 ms** (issue 4: a whole subject view,
  10 agencies × 11 categories, audit write included).

Each line also reports the CPU the server process and its PostgreSQL backends
used per request (the rest of the latency is waiting: the commit's WAL flush,
round trips, the client), and the ``subject.view`` / ``subject.records`` events
written per request, counted in ``audit_event`` before and after the measured
blocks: one per owning agency per view proves the audit write was in every
answer. A table shows what each responder was shown per purpose (categories
disclosed / withheld / concealed). ``--profile`` then samples the server with
py-spy during more responder views, twice (``--gil``: where the Python CPU goes;
then every non-idle thread) and prints the hottest frames.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psutil  # type: ignore[import-untyped]
from sqlalchemy import Engine, text, update

from benchmarks.common import crosswalk_server, format_table, fresh_schema

__all__ = ["main"]

DEFAULT_URL = os.environ.get(
    "CROSSWALK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
TARGET_P99_MS = 20.0
SUBJECT_ID = "S-bench-subject-view"
OUTSIDER_AGENCY = "outside_agency"
#: Agencies holding records of the subject (``--agencies`` takes the first ones).
AGENCY_NAMES = ("police_cad", "behavioral_health", "homeless_services", "ems", "fire_rescue",
                "public_health", "child_welfare", "probation", "school_district",
                "housing_authority")  # fmt: skip
#: Responders: (role, index into the agency list).
RESPONDERS = (("police_officer", 0), ("dispatcher", 0), ("bh_clinician", 1), ("ems_medic", 3),
              ("case_manager", 2), ("bh_clinician", 5))  # fmt: skip
#: The person every agency holds a record of (only its encoding reaches the hub).
PERSON = {"given_name": "Jordan", "middle_name": "", "family_name": "Rivera",
          "birth_date": "1987-04-12", "sex": "F", "street_address": "12 Elm St",
          "city": "Springfield", "postcode": "62704", "phone": "2175550123", "ssn": ""}  # fmt: skip
_MS = 1000.0
_ROOT = f"{Path(__file__).resolve().parents[1]}/"
_OURS = ("api/", "policy/", "linkage/")  # the repository's packages, for the profile


# --- database ------------------------------------------------------------------------------
def audit_counts(engine: Engine) -> Counter[tuple[str, str]]:
    """``subject.*`` events in ``audit_event`` by (actor, kind)."""
    with engine.connect() as db:
        rows = db.execute(
            text(
                "SELECT actor_username, kind, count(*) FROM audit_event "
                "WHERE kind IN ('subject.view', 'subject.records') GROUP BY 1, 2"
            )
        ).all()
    return Counter({(str(user), str(kind)): int(n) for user, kind, n in rows})


# --- set-up --------------------------------------------------------------------------------
@dataclass
class Hub:
    """Who takes part: tokens by username, and each agency's record id."""

    agencies: list[str]
    tokens: dict[str, str] = field(default_factory=dict)
    responders: list[str] = field(default_factory=list)
    record_ids: dict[str, str] = field(default_factory=dict)
    outsider: str = f"dispatcher-{OUTSIDER_AGENCY}"
    reviewer: str = "reviewer"
    rules: int = 0
    sharing: int = 0
    consents: int = 0


def agency_names(count: int) -> list[str]:
    """The first ``count`` agency names (generated beyond the ten realistic ones)."""
    return [*AGENCY_NAMES, *(f"agency_{i}" for i in range(len(AGENCY_NAMES), count))][:count]


def prepare_identities_and_policy(url: str, agencies: Sequence[str], rules: int, seed: int) -> Hub:
    """Agencies, users with tokens and the published policy, through the service layer."""
    from api.db import make_engine, session_scope
    from api.hub.identity import service as identity
    from api.hub.policies.admin import import_policy
    from api.hub.settings import Settings
    from policy.policy_file import dump_policy
    from policy.validation import validate_policy_set

    # bench_policy is not type-checked (casbin lambdas): imported by name so that mypy on
    # this file does not report that file's errors.
    generate_rules = importlib.import_module("benchmarks.bench_policy").generate_rules
    rng = random.Random(seed)
    hub = Hub(list(agencies))
    master_key = Settings(database_url=url, environment="development").master_key_bytes()
    users = [(f"steward-{a}", "data_steward", a) for a in agencies]
    for role, index in RESPONDERS:
        username = f"{role}-{agencies[index % len(agencies)]}"
        if username not in hub.responders:
            hub.responders.append(username)
            users.append((username, role, agencies[index % len(agencies)]))
    users += [(hub.outsider, "dispatcher", OUTSIDER_AGENCY),
              (hub.reviewer, "linkage_reviewer", OUTSIDER_AGENCY)]  # fmt: skip
    engine = make_engine(url)
    with session_scope(engine) as session:
        for agency in [*agencies, OUTSIDER_AGENCY]:
            identity.create_agency(session, agency, master_key)
        for username, role, agency in users:
            identity.create_user(session, username, role, agency)
            hub.tokens[username] = identity.issue_token(session, username, 1)
    generated = generate_rules(rules, agencies, rng)
    sharing = {(a, b) for a in agencies for b in agencies if a != b and rng.random() < 0.5}
    policy = validate_policy_set(generated, sharing, f"bench-{seed}")
    import_policy(engine, dump_policy(policy, "Generated by benchmarks.bench_subject_view."))
    engine.dispose()
    hub.rules, hub.sharing = len(policy.rules), len(policy.sharing)
    return hub


def _context(agency: str) -> dict[str, dict[str, str]]:
    """Values in every category (about 100 bytes each)."""
    from policy.vocabulary import CATEGORIES

    return {
        category: {
            "note": f"{category.replace('_', ' ')} note held by {agency}: " + "x" * 60,
            "updated": "2024-05-01",
        }
        for category in CATEGORIES
    }


def submit_subject(client: httpx.Client, url: str, hub: Hub) -> None:
    """One record per agency over HTTP, then the records made one subject in the store."""
    from sqlmodel import col

    from api.db import make_engine, session_scope
    from api.hub.records.tables import StoredRecord
    from linkage.encode.encoding import RecordEncoder
    from linkage.encode.keys import LinkageSecret
    from linkage.schema import default_schema

    secret = LinkageSecret(bytes(range(32)))  # throw-away: the hub never holds it anyway
    for i, agency in enumerate(hub.agencies):
        record_id = f"BV-{i:07d}"
        record, _ = RecordEncoder(default_schema(), secret, agency).encode(record_id, PERSON)
        record.context.update(_context(agency))
        response = client.post(
            "/v1/records",
            content=record.to_json() + b"\n",
            headers={**_auth(hub, f"steward-{agency}"), "Content-Type": "application/x-ndjson"},
        )
        response.raise_for_status()
        hub.record_ids[agency] = record_id
    engine = make_engine(url)
    with session_scope(engine) as session:
        statement = (
            update(StoredRecord)
            .where(col(StoredRecord.record_id).in_(list(hub.record_ids.values())))
            .values(subject_id=SUBJECT_ID)
        )
        session.exec(statement)
    engine.dispose()


def record_consents(client: httpx.Client, hub: Hub, count: int, seed: int) -> None:
    """``count`` consents through random agencies' records, to random responder roles."""
    from policy.vocabulary import CATEGORIES, PURPOSES, RESPONDER_ROLES

    rng = random.Random(seed + 1)
    for _ in range(count):
        agency = rng.choice(hub.agencies)
        categories = {"substance_use", *rng.sample(CATEGORIES, 3)}
        body = {
            "record_id": hub.record_ids[agency],
            "grantor": "subject",
            "recipients": [{"role": r} for r in rng.sample(sorted(RESPONDER_ROLES), 2)],
            "categories": sorted(categories),
            "purposes": rng.sample(PURPOSES, 3),
        }
        response = client.post("/v1/consents", json=body, headers=_auth(hub, f"steward-{agency}"))
        response.raise_for_status()
        hub.consents += 1


def _auth(hub: Hub, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {hub.tokens[username]}"}


# --- the server ------------------------------------------------------------------------------
def server_processes(server: psutil.Process) -> list[psutil.Process]:
    """The server and its workers (not multiprocessing's resource tracker)."""
    children = [p for p in server.children(recursive=True)
                if "resource_tracker" not in " ".join(p.cmdline())]  # fmt: skip
    return [server, *children]


@dataclass
class CpuMeter:
    """CPU seconds of the server's processes and of its PostgreSQL backends."""

    server: psutil.Process
    engine: Engine
    pg_port: int

    def backends(self) -> list[psutil.Process]:
        """The PostgreSQL backends serving the server's connections, found by client port."""
        ports = [
            c.laddr.port
            for p in server_processes(self.server)
            for c in p.net_connections(kind="tcp")
            if c.raddr and c.raddr.port == self.pg_port
        ]
        if not ports:
            return []
        with self.engine.connect() as db:
            pids = db.execute(
                text("SELECT pid FROM pg_stat_activity WHERE client_port = ANY(:p)"), {"p": ports}
            ).scalars()
            return [psutil.Process(pid) for pid in pids]

    def sample(self) -> dict[str, dict[int, float]]:
        """CPU seconds so far by process id, for the server and for its backends."""
        return {"server": _cpu(server_processes(self.server)), "postgres": _cpu(self.backends())}


def _cpu(processes: Sequence[psutil.Process]) -> dict[int, float]:
    used = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        used[process.pid] = times.user + times.system
    return used


def _cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# --- measuring -------------------------------------------------------------------------------
Call = tuple[str, dict[str, str]]  # (path, headers)


@dataclass
class Line:
    """One measured line: the calls it cycles through, and what they cost."""

    name: str
    calls: list[Call]  # taken in turn
    events_per_request: int  # subject.* events each request must write
    actors: tuple[str, ...] = ()  # whose events those are
    target: str = "-"
    next_call: int = 0
    seconds: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=lambda: {"server": 0.0, "postgres": 0.0})
    events: int = 0

    def take(self, count: int) -> list[Call]:
        """The next ``count`` calls, in turn."""
        calls = [self.calls[(self.next_call + i) % len(self.calls)] for i in range(count)]
        self.next_call += count
        return calls


def run_block(clients: Sequence[httpx.Client], calls: Sequence[Call]) -> tuple[list[float], float]:
    """Send ``calls`` split over one thread per client; per-request seconds and wall time."""
    shares: list[list[float]] = [[] for _ in clients]
    errors: list[str] = []

    def worker(i: int) -> None:
        client = clients[i]
        for path, headers in calls[i :: len(clients)]:
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            shares[i].append(time.perf_counter() - started)
            if response.status_code != 200:
                errors.append(f"{path}: {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    if len(clients) == 1:
        worker(0)
    else:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return [s for share in shares for s in share], wall


def measure(lines: Sequence[Line], clients: Sequence[httpx.Client], meter: CpuMeter | None,
            engine: Engine, requests: int, warmup: int, rounds: int) -> None:  # fmt: skip
    """Warm every line, then ``rounds`` interleaved blocks of each; fills the lines."""
    for line in lines:
        run_block(clients, line.take(warmup))
    before = audit_counts(engine)
    for r in range(rounds):
        count = requests // rounds + (1 if r < requests % rounds else 0)
        for line in lines:
            cpu0 = meter.sample() if meter else None
            seconds, wall = run_block(clients, line.take(count))
            if meter and cpu0:
                cpu1 = meter.sample()
                for party in line.cpu:
                    line.cpu[party] += _cpu_delta(cpu0[party], cpu1[party])
            line.seconds += seconds
            line.wall += wall
    after = audit_counts(engine)
    for line in lines:
        line.events = sum(after[k] - before[k] for k in after if k[0] in line.actors)


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0-100) of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 100)) - 1))]


Census = dict[tuple[str, str], tuple[int, int, int, int]]  # (user, purpose) -> counts


def census(client: httpx.Client, hub: Hub, users: Sequence[str]) -> Census:
    """(disclosed, withheld, concealed, agencies disclosing) per (user, purpose)."""
    from policy.vocabulary import CATEGORIES, PURPOSES

    total = len(hub.agencies) * len(CATEGORIES)
    out = {}
    for user in users:
        for purpose in PURPOSES:
            response = client.get(f"/v1/subjects/{SUBJECT_ID}?purpose={purpose}",
                                  headers=_auth(hub, user))  # fmt: skip
            response.raise_for_status()
            agencies = response.json()["agencies"]
            shown = sum(len(a["categories"]) for a in agencies)
            held = sum(len(a["withheld"]) for a in agencies)
            disclosing = sum(1 for a in agencies if a["categories"])
            out[user, purpose] = (shown, held, total - shown - held, disclosing)
    return out


def view_calls(hub: Hub, users: Sequence[str]) -> list[Call]:
    """Every user × purpose view request."""
    from policy.vocabulary import PURPOSES

    return [(f"/v1/subjects/{SUBJECT_ID}?purpose={purpose}", _auth(hub, user))
            for user in users for purpose in PURPOSES]  # fmt: skip


# --- profile ---------------------------------------------------------------------------------
def profile_views(server: psutil.Process, clients: Sequence[httpx.Client], line: Line,
                  seconds: int, gil: bool, out: Path) -> str:  # fmt: skip
    """py-spy the server during responder views; the hottest frames as a table.

    With ``gil``, only the thread holding the GIL is sampled: where the Python CPU
    time goes. Without, every thread py-spy does not see as idle: waits inside
    psycopg (libpq) and the event loop's ``epoll`` count as active there.
    """
    pid = server_processes(server)[-1].pid  # the worker (the server itself with one worker)
    command = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
               "--duration", str(seconds), "--rate", "200", "--nonblocking",
               "--format", "raw", "--output", str(out), *(["--gil"] if gil else [])]  # fmt: skip
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    done = 0
    while spy.poll() is None:
        run_block(clients, line.take(50))
        done += 50
    if spy.returncode != 0 or not out.exists():
        stderr = spy.stderr.read().decode(errors="replace") if spy.stderr else ""
        return f"py-spy failed ({spy.returncode}): {stderr.strip()[:300]}"
    what = "samples holding the GIL" if gil else "samples of non-idle threads"
    return f"{done} views while sampling\n" + profile_summary(out, what)


def profile_summary(path: Path, what: str, top: int = 15) -> str:
    """Hottest frames of a py-spy raw profile (self and inclusive share), then our own."""
    own, inclusive, total = Counter[str](), Counter[str](), 0
    for raw in path.read_text(errors="replace").splitlines():
        stack, _, count = raw.rpartition(" ")
        frames = [_frame(f) for f in stack.split(";") if f]
        if not frames or not count.isdigit():
            continue
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    if not total:
        return "py-spy: no samples"
    rows = [(f"{100 * n / total:.1f}%", f"{100 * inclusive[f] / total:.1f}%", f)
            for f, n in own.most_common(top)]  # fmt: skip
    ours = [(f, n) for f, n in inclusive.most_common() if f.split("(")[-1].startswith(_OURS)]
    rows += [("-", f"{100 * n / total:.1f}%", f) for f, n in ours[:top]]
    return format_table(("self", "incl.", f"frame ({total} {what})"), rows)


def _frame(text_: str) -> str:
    """``function (file)`` of a py-spy frame ``function (file:line)``, paths shortened."""
    function, _, where = text_.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    where = where.split("site-packages/")[-1].removeprefix(_ROOT)
    return f"{function} ({where})"


# --- main ------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    p.add_argument("--requests", type=int, default=1000, help="measured requests per line")
    p.add_argument("--warmup", type=int, default=100, help="unmeasured requests per line first")
    p.add_argument("--rounds", type=int, default=5, help="interleaved blocks per line")
    p.add_argument("--concurrency", type=int, default=1, help="client threads (1 connection each)")
    p.add_argument("--agencies", type=int, default=10, help="agencies holding a record")
    p.add_argument("--rules", type=int, default=2000, help="rules in the generated policy")
    p.add_argument("--consents", type=int, default=4, help="consents recorded")
    p.add_argument("--workers", type=int, default=1, help="crosswalk serve worker processes")
    p.add_argument("--port", type=int, default=8131, help="port of the benchmarked server")
    p.add_argument("--startup-timeout", type=float, default=120)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--profile", action="store_true", help="py-spy the server after measuring")
    p.add_argument("--profile-seconds", type=int, default=20, help="per py-spy run (two runs)")
    return p


def run(args: argparse.Namespace) -> list[Line]:
    """Set up, serve, measure; returns the measured lines (after printing everything)."""
    from api.db import make_engine
    from policy.vocabulary import CATEGORIES, PURPOSES

    agencies = agency_names(args.agencies)
    with (
        fresh_schema(args.database_url, "bench_subject_view") as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        started = time.perf_counter()
        hub = prepare_identities_and_policy(url, agencies, args.rules, args.seed)
        print(f"policy: {hub.rules} rules, {hub.sharing} opt-ins, imported in "
              f"{time.perf_counter() - started:.1f}s", flush=True)  # fmt: skip
        with crosswalk_server(url, args.workers, args.port, Path(tmp) / "server.log",
                   args.startup_timeout) as server:  # fmt: skip
            base = f"http://127.0.0.1:{args.port}"
            clients = [httpx.Client(base_url=base, timeout=60) for _ in range(args.concurrency)]
            engine = make_engine(url, pool_size=1, max_overflow=1)
            try:
                submit_subject(clients[0], url, hub)
                record_consents(clients[0], hub, args.consents, args.seed)
                print(f"subject {SUBJECT_ID}: {len(agencies)} records x {len(CATEGORIES)} "
                      f"categories; {hub.consents} consents", flush=True)  # fmt: skip
                seen = census(clients[0], hub, [*hub.responders, hub.outsider])
                _print_census(hub, seen)
                if any(seen[hub.outsider, p][0] for p in PURPOSES):
                    raise RuntimeError("the outside agency was shown something")
                views = len(agencies)
                lines = [
                    Line("GET /healthz (HTTP floor)", [("/healthz", {})], 0),
                    Line("GET /v1/subjects/{id}/records (reviewer)",
                         [(f"/v1/subjects/{SUBJECT_ID}/records", _auth(hub, hub.reviewer))],
                         1, (hub.reviewer,)),
                    Line("view, 0 agencies disclosing (outsider)",
                         view_calls(hub, [hub.outsider]), views, (hub.outsider,)),
                    Line(f"view, {len(hub.responders)} responders x {len(PURPOSES)} purposes",
                         view_calls(hub, hub.responders), views, tuple(hub.responders),
                         f"p99 <= {TARGET_P99_MS:.0f} ms"),
                ]  # fmt: skip
                meter = CpuMeter(server, engine, urlparse(args.database_url).port or 5432)
                measure(lines, clients, meter, engine, args.requests, args.warmup, args.rounds)
                _print_lines(lines, args)
                for gil in (True, False) if args.profile else ():
                    print(f"\nprofile: py-spy {args.profile_seconds}s during responder views, "
                          f"{'--gil' if gil else 'every thread'}")  # fmt: skip
                    print(profile_views(server, clients, lines[-1], args.profile_seconds, gil,
                                        Path(tmp) / f"profile-{gil}.txt"))  # fmt: skip
            finally:
                engine.dispose()
                for client in clients:
                    client.close()
    return lines


def _print_census(hub: Hub, seen: Census) -> None:
    from policy.vocabulary import PURPOSES

    print("\ncategories per view: disclosed / withheld / concealed (agencies disclosing)")
    rows = [[user, *(f"{d}/{w}/{c} ({a})" for d, w, c, a in (seen[user, p] for p in PURPOSES))]
            for user in [*hub.responders, hub.outsider]]  # fmt: skip
    print(format_table(["user", *PURPOSES], rows))
    shown = [seen[u, p][0] for u in hub.responders for p in PURPOSES]
    held = [seen[u, p][1] + seen[u, p][2] for u in hub.responders for p in PURPOSES]
    print(f"responders: {statistics.mean(shown):.1f} categories disclosed and "
          f"{statistics.mean(held):.1f} withheld or concealed per view on average "
          f"(disclosed: min {min(shown)}, max {max(shown)})", flush=True)  # fmt: skip


def _print_lines(lines: Sequence[Line], args: argparse.Namespace) -> None:
    rows = []
    for line in lines:
        n = len(line.seconds)
        p99 = percentile(line.seconds, 99) * _MS
        status = "-"
        if line.target != "-":
            status = f"{line.target}: {'PASS' if p99 <= TARGET_P99_MS else 'FAIL'}"
        rows.append([
            line.name, n,
            f"{percentile(line.seconds, 50) * _MS:.2f}",
            f"{percentile(line.seconds, 95) * _MS:.2f}", f"{p99:.2f}",
            f"{max(line.seconds) * _MS:.2f}", f"{n / line.wall:.0f}",
            f"{line.cpu['server'] / n * _MS:.2f}", f"{line.cpu['postgres'] / n * _MS:.2f}",
            f"{line.events / n:g} (want {line.events_per_request})", status,
        ])  # fmt: skip
    print(f"\n{args.requests} requests per line after {args.warmup} warm-up, {args.rounds} "
          f"interleaved rounds, {args.concurrency} client thread(s), {args.workers} server "
          f"worker(s); times in ms")  # fmt: skip
    print(format_table(["line", "n", "p50", "p95", "p99", "max", "req/s", "server CPU/req",
                        "PG CPU/req", "audit events/req", "target"], rows))  # fmt: skip
    for line in lines:
        if line.events != line.events_per_request * len(line.seconds):
            print(f"WARNING: {line.name}: {line.events} audit events for {len(line.seconds)} "
                  f"requests, expected {line.events_per_request} each")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, set up, measure, print."""
    args = _parser().parse_args(argv)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"bench_subject_view: {os.cpu_count()} CPUs; load average {load}", flush=True)
    run(args)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
