"""Shared helpers for the benchmark scripts: timing, memory, pair metrics, tables.

Every benchmark reports the same figures in the same way: wall time per stage
(:class:`Stopwatch`), the median over repeated runs (:func:`median_of`), peak
resident memory of a run isolated in a freshly spawned process (:func:`run_in_child`,
or :func:`run_in_child_within` to kill it over time or memory limits), and pairwise
precision / recall / F1 against the true pairs (:func:`pair_metrics`).
Pairs are ``((agency, record_id), (agency, record_id))`` with the smaller address
first, exactly as :mod:`linkage.datasets` builds the truth.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import combinations
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # linkage.datasets imports recordlinkage: ~200 MiB in every child
    from linkage.datasets import PairKey
    from linkage.evaluation import PairScores
    from linkage.records import RecordKey

__all__ = [
    "ChildFailed",
    "ChildLimitExceeded",
    "ChildMemoryExceeded",
    "ChildRun",
    "ChildTimeout",
    "Limits",
    "Stopwatch",
    "Timed",
    "format_table",
    "median_of",
    "pair_metrics",
    "pairs_from_clusters",
    "peak_rss_bytes",
    "run_in_child",
    "run_in_child_within",
]

T = TypeVar("T")


@dataclass
class Stopwatch:
    """Accumulates wall-clock seconds per named stage.

    Example::

        timer = Stopwatch()
        with timer.stage("blocking"):
            ...
        timer.stages  # {"blocking": 0.42}
    """

    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the body of a ``with`` block and add it to stage ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.stages[name] = self.stages.get(name, 0.0) + elapsed

    @property
    def total(self) -> float:
        """Sum of all stage times, in seconds."""
        return sum(self.stages.values())


@dataclass(frozen=True)
class Timed(Generic[T]):
    """Result of :func:`median_of`: the median wall time and the last result.

    Attributes:
        median_seconds: Median wall time over the runs.
        seconds: Every run's wall time, in run order.
        result: The value returned by the last run.
    """

    median_seconds: float
    seconds: tuple[float, ...]
    result: T


def median_of(runs: int, fn: Callable[[], T]) -> Timed[T]:
    """Call ``fn`` ``runs`` times and report the median wall time.

    Args:
        runs: Number of calls, at least one.
        fn: The work to time; takes no arguments.

    Returns:
        The median and individual times, and the result of the last call.

    Raises:
        ValueError: If ``runs`` is less than one.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    seconds: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return Timed(statistics.median(seconds), tuple(seconds), result)


@dataclass(frozen=True)
class ChildRun(Generic[T]):
    """Result of :func:`run_in_child`.

    Attributes:
        result: What the callable returned (pickled back from the child).
        peak_rss_bytes: Peak resident set size of the child process, which includes
            the interpreter and every module the callable imported.
        seconds: Wall time of the call inside the child, excluding process start-up.
    """

    result: T
    peak_rss_bytes: int
    seconds: float

    @property
    def peak_rss_mib(self) -> float:
        """Peak resident set size in MiB."""
        return self.peak_rss_bytes / 2**20


def run_in_child(fn: Callable[..., T], *args: Any, **kwargs: Any) -> ChildRun[T]:
    """Run ``fn(*args, **kwargs)`` in a freshly *spawned* process and measure it.

    Spawn rather than fork, so the child does not inherit (and report) the parent's
    memory. ``fn`` and its arguments must be picklable: a module-level function.

    Args:
        fn: The work to run.
        *args: Positional arguments for ``fn``.
        **kwargs: Keyword arguments for ``fn``.

    Returns:
        The result, the child's peak RSS and the call's wall time.
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        result, peak, seconds = pool.submit(_measured_call, fn, args, kwargs).result()
    return ChildRun(result, peak, seconds)


@dataclass(frozen=True)
class Limits:
    """What a child run may use before it is killed (``None``: unlimited).

    Attributes:
        seconds: Wall time, process start-up included.
        rss_bytes: Resident memory of the child process (checked twice a second, Linux).
    """

    seconds: float | None = None
    rss_bytes: int | None = None


class ChildLimitExceeded(RuntimeError):
    """A child run went over one of its :class:`Limits` and was killed."""


class ChildTimeout(ChildLimitExceeded):
    """A child run did not finish within its time limit."""


class ChildMemoryExceeded(ChildLimitExceeded):
    """A child run grew beyond its memory limit."""


class ChildFailed(RuntimeError):
    """A child process died without a result (killed, e.g. by the out-of-memory killer)."""


_POLL_SECONDS = 0.5


def run_in_child_within(
    limits: Limits, fn: Callable[..., T], *args: Any, **kwargs: Any
) -> ChildRun[T]:
    """Like :func:`run_in_child`, but kill the child when it goes over ``limits``.

    A process pool cannot cancel a running call, so this starts one spawned process
    and waits on a pipe for its result, watching the clock and the child's memory.
    Exceptions raised by ``fn`` are re-raised here.

    Args:
        limits: Time and memory the child may use.
        fn: The work to run, a module-level function.
        *args: Positional arguments for ``fn``.
        **kwargs: Keyword arguments for ``fn``.

    Returns:
        The result, the child's peak RSS and the call's wall time.

    Raises:
        ChildTimeout: If no result arrived within ``limits.seconds``.
        ChildMemoryExceeded: If the child's RSS went over ``limits.rss_bytes``.
        ChildFailed: If the child died without sending a result.
    """
    ctx = get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child_main, args=(sender, fn, args, kwargs))
    start = time.monotonic()
    process.start()
    sender.close()  # the child holds the only sending end, so its death means EOF
    try:
        while not receiver.poll(_POLL_SECONDS):
            if limits.seconds is not None and time.monotonic() - start > limits.seconds:
                raise ChildTimeout(f"no result within {limits.seconds:.0f}s; child killed")
            if limits.rss_bytes is not None and _rss_bytes(process.pid) > limits.rss_bytes:
                raise ChildMemoryExceeded(
                    f"resident memory over {limits.rss_bytes / 1e9:.1f} GB; child killed"
                )
        ok, payload = receiver.recv()
    except EOFError:
        process.join()
        raise ChildFailed(f"child exited with code {process.exitcode} and no result") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if not ok:
        raise payload
    result, peak, seconds = payload
    return ChildRun(result, peak, seconds)


def _rss_bytes(pid: int | None) -> int:
    """Current resident memory of process ``pid`` (0 when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _child_main(
    sender: Connection, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Run in the child of :func:`run_in_child_within`: send ``(ok, payload)`` back."""
    try:
        message: tuple[bool, Any] = (True, _measured_call(fn, args, kwargs))
    except Exception as exc:  # handed to the parent, which re-raises it
        message = (False, exc)
    try:
        sender.send(message)
    except Exception as exc:  # an unpicklable result or exception
        sender.send((False, RuntimeError(f"child result could not be sent back: {exc!r}")))
    sender.close()


def _measured_call(
    fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[T, int, float]:
    """Run in the child: call ``fn`` and read this process's peak RSS."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    return result, peak_rss_bytes(), seconds


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far, in bytes.

    On Linux this is ``VmHWM`` of ``/proc/self/status``: ``getrusage``'s ``ru_maxrss``
    survives ``exec``, so a process spawned (fork + exec) from a parent holding 5 GB
    reports at least 5 GB however little it uses itself. Elsewhere ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    return max_rss if sys.platform == "darwin" else max_rss * 1024


def pair_metrics(predicted: Iterable[PairKey], truth: Iterable[PairKey]) -> PairScores:
    """Score predicted pairs against true pairs.

    Pairs are normalised (smaller address first) before comparison, so the caller
    need not sort them.

    Args:
        predicted: Pairs the linker declared matches.
        truth: Pairs that are matches.

    Returns:
        True-positive, false-positive and false-negative counts.
    """
    from linkage.datasets import sorted_pair
    from linkage.evaluation import score_pairs

    predicted_set = {sorted_pair(left, right) for left, right in predicted}
    truth_set = {sorted_pair(left, right) for left, right in truth}
    return score_pairs(predicted_set, truth_set)


def pairs_from_clusters(clusters: Iterable[Iterable[RecordKey]]) -> frozenset[PairKey]:
    """Every pair of records that share a cluster."""
    from linkage.datasets import sorted_pair

    return frozenset(
        sorted_pair(left, right)
        for members in clusters
        for left, right in combinations(sorted(set(members)), 2)
    )


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Render rows as a plain-text table; floats get four decimals.

    Args:
        headers: Column titles.
        rows: One sequence of cells per row, in header order.

    Returns:
        The table, one line per row, columns padded to equal width.
    """
    cells = [list(headers)] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    """Format one table cell."""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


@contextmanager
def crosswalk_server(
    url: str, workers: int, port: int, log: Path, timeout: float, indent: str = ""
) -> Iterator[Any]:
    """``crosswalk serve`` on ``url`` until every worker has started; stopped on exit.

    Yields the server's ``psutil.Process`` (its children: the uvicorn workers and
    the audit sealer process). Development settings; output goes to ``log``.
    """
    import psutil

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken: pass another --port")
    env = {**os.environ, "CROSSWALK_DATABASE_URL": url, "CROSSWALK_ENVIRONMENT": "development"}
    exe = Path(sys.executable).with_name("crosswalk")
    with log.open("wb") as sink:
        proc = subprocess.Popen(  # noqa: S603 - our own entry point
            [str(exe), "serve", "--workers", str(workers), "--port", str(port)],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    start = time.perf_counter()
    try:
        while log.read_text(errors="replace").count("Application startup complete") < workers:
            if proc.poll() is not None or time.perf_counter() - start > timeout:
                raise RuntimeError(f"server did not start; see {log}")
            time.sleep(0.2)
        print(f"{indent}server ready in {time.perf_counter() - start:.1f}s (pid {proc.pid})",
              flush=True)  # fmt: skip
        yield psutil.Process(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def fresh_schema(base_url: str, prefix: str) -> Iterator[str]:
    """A new PostgreSQL schema ``PREFIX_<hex>``, migrated; yields its URL, drops it after."""
    from sqlalchemy import create_engine, text

    from api.db import make_engine
    from api.hub.migrations import upgrade_database

    base = base_url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as db:
        db.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    try:
        engine = make_engine(url)
        upgrade_database(engine)
        engine.dispose()
        yield url
    finally:
        with admin.begin() as db:
            db.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
