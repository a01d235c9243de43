"""At most one ``auth.failure`` event per client address per window, with a count.

Every refused token was a permanent audit row, so anyone who could reach the
hub could grow the log without bound (issue #11, finding 13b). Each process
now writes a client's first failure at once (``count`` 1) and holds back the
rest of that client's failures for ``window_seconds``; the first failure after
the window is written with ``count`` = itself plus those held back. The sum of
the counts is every failure; what is still held back when the process stops is
written then (:meth:`AuthFailureThrottle.drain`). Memory is bounded: past
``max_clients`` addresses, failures are written unthrottled rather than held.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["AUTH_FAILURE_WINDOW_SECONDS", "AuthFailureThrottle"]

AUTH_FAILURE_WINDOW_SECONDS = 60.0


class AuthFailureThrottle:
    """Decides, per failure, whether to write an event now and with what count."""

    def __init__(
        self,
        window_seconds: float = AUTH_FAILURE_WINDOW_SECONDS,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_seconds = window_seconds
        self.max_clients = max_clients
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str | None, list[float]] = {}  # client -> [opened, held]

    def admit(self, client: str | None) -> int | None:
        """The count to record now for this failure from ``client``, or ``None`` to hold it."""
        with self._lock:
            now = self.clock()
            window = self._windows.get(client)
            if window is not None and now - window[0] < self.window_seconds:
                window[1] += 1
                return None
            held = int(window[1]) if window is not None else 0
            if window is None and len(self._windows) >= self.max_clients:
                self._forget_quiet(now)
                if len(self._windows) >= self.max_clients:
                    return 1
            self._windows[client] = [now, 0]
            return held + 1

    def _forget_quiet(self, now: float) -> None:
        """Drop windows that have closed with nothing held back."""
        for client, (opened, held) in list(self._windows.items()):
            if not held and now - opened >= self.window_seconds:
                del self._windows[client]

    def drain(self) -> list[tuple[str | None, int]]:
        """Every client's held-back count (non-zero ones), forgetting all windows."""
        with self._lock:
            held = [(c, int(w[1])) for c, w in self._windows.items() if w[1]]
            self._windows.clear()
            return held
