"""``crosswalk serve``'s audit sealer, in a process of its own beside the request workers.

Chaining and signing events is CPU work in Python. In a request worker it ran on
a thread that took the GIL in bursts every ``audit_seal_interval_seconds``, and
every request that needed the GIL meanwhile waited: with the sealer in the
process, a subject view's p99 was 22–25 ms; with it elsewhere, 10–13 ms
(``benchmarks/bench_subject_view.py``). So ``crosswalk serve`` runs one sealer
process for the whole server and tells its workers not to seal
(``CROSSWALK_AUDIT_SEAL_INTERVAL_SECONDS=0`` in their environment). One sealer
instead of one per worker also spares the workers' contention on the chain head.

Nothing depends on the sealer for correctness *now*: events are committed with
their acts and queued by a trigger; the sealer only chains and signs them
shortly after. A watchdog thread restarts the process if it dies, so a crash
delays sealing by about a second, never loses an event. It also restarts one that
hangs: the child stamps a shared heartbeat after every pass, and a child whose
stamp is older than ``_STALE_PASSES`` intervals (at least ``_STALE_FLOOR_SECONDS``)
is killed and replaced. A hung sealer on SQLite can hold the write lock and
stall every writer, so waiting for it to exit is not enough. ``crosswalk demo`` and
apps built in tests keep the in-process sealer thread (one process, little load).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from types import FrameType
from typing import TypeAlias

__all__ = ["SEAL_INTERVAL_ENV", "sealer_process"]

log = logging.getLogger(__name__)

SEAL_INTERVAL_ENV = "CROSSWALK_AUDIT_SEAL_INTERVAL_SECONDS"
_RESTART_SECONDS = 1.0
#: A child whose heartbeat is older than this many intervals is taken to hang ...
_STALE_PASSES = 40
#: ... but never sooner than this (start-up imports, one large batch).
_STALE_FLOOR_SECONDS = 30.0

#: ``time.monotonic()`` of the child's last pass (system-wide on Linux and macOS).
Heartbeat: TypeAlias = "Synchronized[float]"  # not subscriptable at run time
SealerTarget: TypeAlias = Callable[[float, Heartbeat], None]


def _seal_until_stopped(interval: float, heartbeat: Heartbeat) -> None:
    """The child: seal every ``interval`` seconds until SIGTERM or SIGINT."""
    from api.db import make_engine
    from api.hub.audit.service import AuditService
    from api.hub.settings import Settings

    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    settings = Settings()
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0)
    sealer = AuditService(engine, settings).sealer

    def beat() -> None:
        heartbeat.value = time.monotonic()

    sealer.start(interval, beat)  # the same sealing thread an app runs, here alone
    try:
        stop.wait()
        sealer.stop()
        sealer.seal()  # a last pass on the way out
    finally:
        engine.dispose()


_SPAWN = multiprocessing.get_context("spawn")


def _spawn(interval: float, heartbeat: Heartbeat, target: SealerTarget) -> BaseProcess:
    heartbeat.value = time.monotonic()  # start-up counts against the same deadline
    process = _SPAWN.Process(
        target=target, args=(interval, heartbeat), name="crosswalk-audit-sealer", daemon=True
    )
    process.start()
    return process


def _stop(process: BaseProcess, timeout: float) -> None:
    """SIGTERM (a last sealing pass, then exit); SIGKILL if it has not exited by ``timeout``."""
    process.terminate()
    process.join(timeout=timeout)
    if process.is_alive():
        process.kill()
        process.join(timeout=5)


@contextmanager
def sealer_process(
    interval: float,
    *,
    stale_after: float | None = None,
    target: SealerTarget = _seal_until_stopped,
) -> Iterator[None]:
    """Run the sealer in a child process for the duration of the block.

    Inside the block the environment says ``CROSSWALK_AUDIT_SEAL_INTERVAL_SECONDS=0``,
    so request workers started there (which read their settings from it) do
    not seal. ``interval <= 0`` (sealing turned off) runs no process.

    Args:
        interval: Seconds between sealing passes.
        stale_after: Seconds without a heartbeat after which the child is
            killed and restarted (default: ``_STALE_PASSES`` intervals, at
            least ``_STALE_FLOOR_SECONDS``).
        target: The child's entry point (tests pass a stub).
    """
    if interval <= 0:
        yield
        return
    if stale_after is None:
        stale_after = max(_STALE_PASSES * interval, _STALE_FLOOR_SECONDS)
    heartbeat: Heartbeat = _SPAWN.Value("d", 0.0, lock=True)
    current = [_spawn(interval, heartbeat, target)]
    stopping = threading.Event()

    def watch() -> None:
        while not stopping.wait(min(_RESTART_SECONDS, stale_after)):
            if not current[0].is_alive():
                log.error("the audit sealer process exited (%s); restarting it",
                          current[0].exitcode)  # fmt: skip
                current[0] = _spawn(interval, heartbeat, target)
            elif time.monotonic() - heartbeat.value > stale_after:
                log.error("the audit sealer process stopped beating; killing and restarting it")
                current[0].kill()  # no last pass: it may be stuck holding the lock
                current[0].join(timeout=5)
                current[0] = _spawn(interval, heartbeat, target)

    watchdog = threading.Thread(target=watch, name="audit-sealer-watchdog", daemon=True)
    watchdog.start()
    previous = os.environ.get(SEAL_INTERVAL_ENV)
    os.environ[SEAL_INTERVAL_ENV] = "0"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(SEAL_INTERVAL_ENV, None)
        else:
            os.environ[SEAL_INTERVAL_ENV] = previous
        stopping.set()
        watchdog.join(timeout=5)
        _stop(current[0], timeout=15)
