"""Request ids: every HTTP request gets one, echoed in ``X-Request-ID``.

:class:`RequestIdMiddleware` (plain ASGI, like the metrics middleware) gives every
HTTP request an id: the caller's ``X-Request-ID`` when it is a short token of
letters, digits, ``.``, ``_`` or ``-`` (so a gateway can correlate its own logs), a
fresh random one otherwise; the id is returned in the response's ``X-Request-ID``
header (an id shaped like an SSN, date or phone number is replaced too: it would put
an identifier in the log). Routes read it from ``request.scope["state"]``.
"""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.privacy import looks_identifying

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware"]

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
