"""One periodic poller: a daemon thread that calls a task every few seconds until stopped.

Every hub process follows state that other processes change — revoked tokens,
published policies, audit events to seal — by polling the database. A poller
that dies would freeze what it follows without a word, so a failing call is
logged and the next one runs on time. Database errors are logged by type
only: their text can carry bound SQL parameters, which may be identifiers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

__all__ = ["Poller"]

log = logging.getLogger(__name__)


class Poller:
    """Calls ``task`` every ``interval`` seconds on a daemon thread named ``name``.

    Args:
        name: Thread name, and what the log calls a failing call.
        interval: Seconds between calls; ``<= 0`` makes :meth:`start` do nothing.
        task: What to call; its return value is ignored.
        note: Optional extra words for a failure's log line (e.g. what is kept).
    """

    def __init__(
        self,
        name: str,
        interval: float,
        task: Callable[[], object],
        *,
        note: Callable[[], str] | None = None,
    ) -> None:
        self.name = name
        self.interval = interval
        self._task = task
        self._note = note
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start calling (once; a second call, or a non-positive interval, does nothing)."""
        if self.interval <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop calling and wait up to ``timeout`` seconds for a call in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def call_once(self) -> None:
        """One call, failures logged as in the thread (also used before the first wait)."""
        try:
            self._task()
        except SQLAlchemyError as exc:
            log.warning("%s failed (%s)%s", self.name, type(exc).__name__, self._suffix())
        except Exception:
            log.exception("%s failed%s", self.name, self._suffix())

    def _suffix(self) -> str:
        return f"; {self._note()}" if self._note is not None else ""

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.call_once()
