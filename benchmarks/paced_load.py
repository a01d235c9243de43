"""A plain, open-loop HTTP load generator for resolve: keep-alive connections, fixed pacing.

Usage (what :mod:`benchmarks.bench_service` runs beside locust)::

    python -m benchmarks.paced_load --port 8123 --token-env CROSSWALK_BENCH_TOKEN \\
        --queries queries.jsonl --rate 300 --duration 60

``--processes × --threads`` clients each hold one HTTP/1.1 keep-alive connection
(``http.client``, TCP_NODELAY set as curl and Go set it) and send one resolve
query every ``processes × threads / rate`` seconds from a random phase, whatever
the latency (a late client sends its next request at once: the offered rate
stays fixed). Latency is from just before the request is written to the end of
the response body. Prints one JSON object: achieved rate, failures, p50/p95/p99.

Why a second generator: locust's one gevent process adds latency of its own as
its user count grows (at 300/s, p50 4–10 ms with 10 users, 21–29 ms with 50, on the
same server); this client gives a figure that does not depend on that.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import socket
import threading
import time
from pathlib import Path

__all__ = ["main", "paced"]


def _client(
    port: int, token: str, queries: list[bytes], interval: float, duration: float, out: list
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.connect()
    assert connection.sock is not None
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    start = time.perf_counter() + random.uniform(0, interval)
    end = start + duration
    first = random.randrange(len(queries))
    n = 0
    while (due := start + n * interval) < end:
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        sent = time.perf_counter()
        connection.request("POST", "/v1/subjects/resolve", queries[(first + n) % len(queries)],
                           headers)  # fmt: skip
        response = connection.getresponse()
        response.read()
        out.append(((time.perf_counter() - sent) * 1000, response.status))
        n += 1
    connection.close()


def _process(port: int, token: str, path: str, rate: float, duration: float, threads: int) -> list:
    queries = [line for line in Path(path).read_bytes().splitlines() if line.strip()]
    out: list = []
    workers = [
        threading.Thread(target=_client, args=(port, token, queries, 1 / rate, duration, out))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return out


def paced(
    port: int,
    token: str,
    queries: Path,
    rate: float,
    duration: float,
    processes: int = 4,
    threads: int = 12,
) -> dict[str, float]:
    """Offer ``rate`` resolves/s for ``duration`` s; the achieved rate and latencies (ms)."""
    per_client = rate / (processes * threads)
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        runs = pool.starmap(
            _process, [(port, token, str(queries), per_client, duration, threads)] * processes
        )
    samples = sorted(ms for run in runs for ms, _ in run)
    failures = sum(1 for run in runs for _, status in run if status != 200)
    n = len(samples)

    def pct(q: float) -> float:
        return samples[min(n - 1, int(n * q))] if n else float("nan")

    return {"requests": n, "rate": n / duration, "failures": failures,
            "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99)}  # fmt: skip


def main() -> None:
    """Parse arguments, run, print the JSON result."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token-env", default="CROSSWALK_BENCH_TOKEN", help="variable with the token")
    p.add_argument("--queries", type=Path, required=True, help="one encoded query per line")
    p.add_argument("--rate", type=float, required=True, help="requests/s offered")
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--processes", type=int, default=4)
    p.add_argument("--threads", type=int, default=12, help="clients per process")
    args = p.parse_args()
    token = os.environ[args.token_env]
    result = paced(args.port, token, args.queries, args.rate, args.duration, args.processes,
                   args.threads)  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
