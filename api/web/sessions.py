"""Browser sessions for the pages of both services: a random cookie, CSRF on every form.

A person signs in to a page with their hub token once; after that the browser
holds only an opaque session id in a cookie (``HttpOnly``, ``SameSite=Strict``,
``Secure`` when served over TLS) and the token stays on the server, never in a
URL or the page. Each session carries its own CSRF token, which every form
posts back (:meth:`SessionStore.check_csrf`); a session ends at sign-out, at
its expiry, or when the hub stops accepting its token. Sessions live in the
memory of the one process that serves the pages: a restart signs everyone out,
which is the safe side.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

__all__ = ["COOKIE", "Session", "SessionStore"]

#: The session cookie's name.
COOKIE = "cw_session"


@dataclass
class Session:
    """One signed-in browser."""

    token: str
    user: dict[str, Any]
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    expires: float = 0.0


class SessionStore:
    """Sessions by id, expiring after ``minutes`` (thread-safe)."""

    def __init__(self, minutes: float, *, secure: bool, max_sessions: int = 10_000) -> None:
        self._ttl = minutes * 60
        self._secure = secure
        self._max = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, token: str, user: dict[str, Any]) -> tuple[str, Session]:
        """A new session for the user of ``token``; returns (session id, session)."""
        sid = secrets.token_urlsafe(32)
        session = Session(token, user, expires=time.monotonic() + self._ttl)
        with self._lock:
            self._drop_expired()
            if len(self._sessions) >= self._max:
                oldest = min(self._sessions, key=lambda k: self._sessions[k].expires)
                del self._sessions[oldest]
            self._sessions[sid] = session
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        """The live session of ``sid``, or ``None``."""
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if session.expires <= time.monotonic():
                del self._sessions[sid]
                return None
            return session

    def end(self, sid: str | None) -> None:
        """Sign the session out."""
        if sid:
            with self._lock:
                self._sessions.pop(sid, None)

    @staticmethod
    def check_csrf(session: Session, sent: str | None) -> bool:
        """Whether a form carried this session's CSRF token (constant-time)."""
        return bool(sent) and hmac.compare_digest(session.csrf, sent or "")

    def set_cookie(self, response: Response, sid: str) -> None:
        """Put the session id in the response's cookie."""
        response.set_cookie(
            COOKIE, sid, max_age=int(self._ttl), httponly=True, samesite="strict",
            secure=self._secure, path="/",
        )  # fmt: skip

    def clear_cookie(self, response: Response) -> None:
        """Remove the session cookie."""
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                               secure=self._secure)  # fmt: skip

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for sid in [k for k, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[sid]
