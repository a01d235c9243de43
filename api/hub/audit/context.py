"""Request ids and client addresses for audit events.

:class:`RequestIdMiddleware` (plain ASGI, like the metrics middleware) gives every
HTTP request an id: the caller's ``X-Request-ID`` when it is a short token of
letters, digits, ``.``, ``_`` or ``-`` (so a gateway can correlate its own logs), a
fresh random one otherwise; the id is returned in the response's ``X-Request-ID``
header (an id shaped like an SSN, date or phone number is replaced too: it would put
an identifier in the log). :func:`request_context` hands routes the id and the
client address (as the ASGI server reports it; run uvicorn with ``--proxy-headers``
behind a trusted proxy) to put in their events.
"""

from __future__ import annotations

import re
import uuid

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.hub.audit.events import looks_identifying
from api.hub.audit.log import RequestContext

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware", "context_of", "request_context"]

REQUEST_ID_HEADER = "x-request-id"
_VALID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


class RequestIdMiddleware:
    """Attach a request id to the scope's state and echo it in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        if given is None or not _VALID.fullmatch(given) or looks_identifying(given.decode()):
            given = uuid.uuid4().hex.encode()
        rid = given
        scope.setdefault("state", {})["request_id"] = rid.decode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid)]
            await send(message)

        await self.app(scope, receive, send_with_id)


def context_of(request: Request) -> RequestContext:
    """The current request's id and client address."""
    rid = request.scope.get("state", {}).get("request_id")
    client = request.client.host if request.client else None
    return RequestContext(rid, client)


async def request_context(request: Request) -> RequestContext:
    """:func:`context_of` as a dependency (async: no thread-pool hop)."""
    return context_of(request)
