"""Locust users for :mod:`benchmarks.bench_service`: resolve queries and a health-check floor.

Run by the benchmark (or by hand) as::

    CROSSWALK_BENCH_TOKEN=… CROSSWALK_BENCH_QUERIES=queries.jsonl CROSSWALK_BENCH_USER_RATE=30 \\
        locust -f benchmarks/locust_resolve.py --headless -u 10 -r 10 --run-time 60s \\
        --host http://127.0.0.1:8123 --csv out/resolve ResolveUser

Every user sends at a constant rate (``constant_throughput``), so the offered load is
``users × CROSSWALK_BENCH_USER_RATE`` requests per second whatever the latency (a
user whose request outlasts its interval simply falls behind). ``ResolveUser`` posts
one encoded record per request to ``/v1/subjects/resolve``, cycling through the
query file (one JSON line each) from a random start; ``HealthzUser`` gets
``/healthz``, which measures the HTTP stack's own floor on the same server.
"""

from __future__ import annotations

import itertools
import os
import random
import socket
from pathlib import Path
from typing import Any

import gevent
from geventhttpclient.connectionpool import ConnectionPool
from locust import constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser

__all__ = ["HealthzUser", "ResolveUser"]

_RATE = float(os.environ.get("CROSSWALK_BENCH_USER_RATE", "6"))
_QUERIES_FILE = os.environ.get("CROSSWALK_BENCH_QUERIES", "")
# Bytes, not str: geventhttpclient sends a bytes body in the same write as the
# headers, but streams anything else after them; two small writes from a client
# without TCP_NODELAY wait on the server's delayed ACK (~40 ms a request).
_QUERIES = (
    [line for line in Path(_QUERIES_FILE).read_bytes().splitlines() if line.strip()]
    if _QUERIES_FILE
    else []
)


def _tcp_nodelay_socket(self: ConnectionPool, family: int, socktype: int, protocol: int) -> Any:
    """geventhttpclient's socket with TCP_NODELAY, as curl, Go's net/http and browsers
    set it. Without it, a request written in two parts (or a response read slowly)
    waits for the other side's delayed ACK: +40 ms a request on the client's side,
    not the server's (measured: p50 48 ms against 5 ms with a plain paced client)."""
    sock = gevent.socket.socket(family, socktype, protocol)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


ConnectionPool._create_tcp_socket = _tcp_nodelay_socket  # type: ignore[method-assign]


def _random_phase() -> None:
    """Start each user at a random point of its interval, so that users spawned
    together do not fire in lockstep (bursts of ``users`` simultaneous requests)."""
    gevent.sleep(random.uniform(0, 1 / _RATE))


class ResolveUser(FastHttpUser):
    """A responder's gateway resolving one person after another."""

    wait_time = constant_throughput(_RATE)

    def on_start(self) -> None:
        _random_phase()
        if not _QUERIES:
            raise RuntimeError("set CROSSWALK_BENCH_QUERIES to a file of encoded query lines")
        start = random.randrange(len(_QUERIES))
        self._queries = itertools.islice(itertools.cycle(_QUERIES), start, None)
        self._headers = {
            "Authorization": f"Bearer {os.environ['CROSSWALK_BENCH_TOKEN']}",
            "Content-Type": "application/json",
        }

    @task
    def resolve(self) -> None:
        """POST one query; a non-200 answer counts as a failure."""
        body = next(self._queries)  # bytes: locust's docstring allows them, its hint says str
        self.client.post("/v1/subjects/resolve", data=body, headers=self._headers, name="resolve")  # type: ignore[arg-type]


class HealthzUser(FastHttpUser):
    """The same offered load on ``GET /healthz`` (no token, no database, no linking)."""

    wait_time = constant_throughput(_RATE)

    def on_start(self) -> None:
        _random_phase()

    @task
    def healthz(self) -> None:
        """GET the liveness probe."""
        self.client.get("/healthz", name="healthz")
