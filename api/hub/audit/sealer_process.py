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
delays sealing by about a second, never loses an event. ``crosswalk demo`` and
apps built in tests keep the in-process sealer thread (one process, little load).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from types import FrameType

__all__ = ["SEAL_INTERVAL_ENV", "sealer_process"]

log = logging.getLogger(__name__)

SEAL_INTERVAL_ENV = "CROSSWALK_AUDIT_SEAL_INTERVAL_SECONDS"
_RESTART_SECONDS = 1.0


def _seal_until_stopped(interval: float) -> None:
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
    sealer.start(interval)  # the same sealing thread an app runs, here alone
    try:
        stop.wait()
        sealer.stop()
        sealer.seal()  # a last pass on the way out
    finally:
        engine.dispose()


def _spawn(interval: float) -> BaseProcess:
    process = multiprocessing.get_context("spawn").Process(
        target=_seal_until_stopped, args=(interval,), name="crosswalk-audit-sealer", daemon=True
    )
    process.start()
    return process


@contextmanager
def sealer_process(interval: float) -> Iterator[None]:
    """Run the sealer in a child process for the duration of the block.

    Inside the block the environment says ``CROSSWALK_AUDIT_SEAL_INTERVAL_SECONDS=0``,
    so request workers started there (which read their settings from it) do
    not seal. ``interval <= 0`` (sealing turned off) runs no process.
    """
    if interval <= 0:
        yield
        return
    current = [_spawn(interval)]
    stopping = threading.Event()

    def watch() -> None:
        while not stopping.wait(_RESTART_SECONDS):
            if not current[0].is_alive():
                log.error("the audit sealer process exited (%s); restarting it",
                          current[0].exitcode)  # fmt: skip
                current[0] = _spawn(interval)

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
        current[0].terminate()  # SIGTERM: a last sealing pass, then exit
        current[0].join(timeout=15)
        if current[0].is_alive():
            current[0].kill()
