"""Principals of recently seen tokens, so most requests authenticate without the database.

Authenticating a bearer token from the store costs a thread hop, a connection
checkout and a transaction: on the resolve path that was a fifth of the
request's CPU. A responder's client sends the same token with every call, so
each server process keeps the principal of every token it has accepted, keyed
by the token's SHA-256 (the digest the store keeps; the token itself is never
held), with the token's expiry.

**When a cached principal stops counting.** Never after its token expires (the
expiry is checked on every look-up, to the microsecond, as the store would).
A revocation (or a change of the user's CJIS authorisation, which the principal
carries) is a change in the store that this process cannot see, so each one
also bumps ``identity_state.version`` in its transaction, and a
poller thread reads that row every ``token_cache_seconds``; when it moves, the
cache is emptied. A revocation therefore reaches every process within one poll
interval (0.25 s by default, at most 1 s) — the same bound as a policy
publish — and the process that made it at once (:meth:`TokenCache.forget_all`).

**Fail closed.** If the poller has not read the row for four intervals (the
database is unreachable, the thread died), look-ups miss and every request
goes to the store, which refuses or accepts it itself. Refused tokens are
never cached: each refusal is authenticated, and audited, afresh.

A look-up that raced a revocation cannot re-cache the old answer: a principal
read from the store is remembered only if no invalidation happened since the
read began (the ``generation`` the caller took before it).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

from api.db import utcnow
from api.hub.identity.service import Principal
from api.web.poller import Poller

__all__ = ["TokenCache"]

log = logging.getLogger(__name__)

_STALE_AFTER_POLLS = 4
_VERSION = text("SELECT version FROM identity_state WHERE id = 1")


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    expires_at: datetime


class TokenCache:
    """A per-process map from token digest to principal, emptied on every revocation.

    Args:
        engine: The store (read for ``identity_state.version`` only).
        poll_seconds: The poll interval; ``0`` turns caching off (every look-up misses).
        max_entries: Entries kept; past it the cache is emptied (tokens are few).
    """

    def __init__(self, engine: Engine, poll_seconds: float, max_entries: int = 50_000) -> None:
        self._engine = engine
        self._interval = poll_seconds
        self._max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._version: int | None = None
        self._polled_at = float("-inf")  # time.monotonic() of the last successful poll
        self._poller = Poller("token-poller", poll_seconds, self.poll)

    @property
    def enabled(self) -> bool:
        """Whether look-ups can hit (caching on, and the poller is current)."""
        if self._interval <= 0:
            return False
        return time.monotonic() - self._polled_at <= _STALE_AFTER_POLLS * self._interval

    @property
    def generation(self) -> int:
        """Take before reading a principal from the store; pass to :meth:`remember`."""
        return self._generation

    def lookup(self, digest: str) -> Principal | None:
        """The cached principal of an unexpired token, or ``None`` (ask the store)."""
        if not self.enabled:
            return None
        entry = self._entries.get(digest)
        if entry is None or entry.expires_at <= utcnow():
            return None
        return entry.principal

    def remember(
        self, digest: str, principal: Principal, expires_at: datetime, generation: int
    ) -> None:
        """Keep a principal the store just accepted, unless an invalidation intervened."""
        if not self.enabled:
            return
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[digest] = _Entry(principal, expires_at)

    def forget_all(self) -> None:
        """Empty the cache (this process revoked a token, or another one did)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def poll(self) -> None:
        """Read ``identity_state.version`` once; empty the cache if it moved."""
        with self._engine.connect() as connection:
            version = connection.execute(_VERSION).scalar_one()
        if version != self._version:
            self.forget_all()
            self._version = version
        self._polled_at = time.monotonic()

    def start(self) -> None:
        """Poll now and keep polling on a daemon thread (unless caching is off).

        A failed poll is logged and retried; until one succeeds, nothing hits
        (see :attr:`enabled`).
        """
        if self._interval <= 0 or self._poller.running:
            return
        self._poller.call_once()
        self._poller.start()

    def close(self) -> None:
        """Stop polling and forget everything."""
        self._poller.stop()
        self.forget_all()
