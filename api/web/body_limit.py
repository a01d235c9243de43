"""One request-body limit for every route, enforced while the body streams in.

Without it a JSON route reads and parses a body of any size before it even
looks at the bearer token: eight unauthenticated 200 MB posts took a hub from
453 MB to 2.65 GB. :class:`BodyLimitMiddleware` refuses a declared
``Content-Length`` over the limit before reading a byte, and counts the bytes
of a body without one (chunked) as they arrive, stopping at the limit. Either
way the answer is a 413 with the same ``{"detail": …}`` body as every other error,
before any authentication, parsing or audit work.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimitMiddleware", "BodyTooLarge"]


class BodyTooLarge(HTTPException):
    """The body grew past the limit while a route was reading it (→ 413).

    An :class:`HTTPException`, so that FastAPI's body parsing re-raises it as it
    is instead of turning it into a 400, and Starlette renders it as a 413.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body over {limit} bytes")


class BodyLimitMiddleware:
    """Plain ASGI middleware: at most ``max_bytes`` of request body per request."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _refuse(send, self.max_bytes)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)


async def _refuse(send: Send, limit: int) -> None:
    body = f'{{"detail":"request body over {limit} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
