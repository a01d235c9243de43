"""Request ids and client addresses for audit events.

The id is the one :class:`api.web.request_id.RequestIdMiddleware` gave the
request. :func:`request_context` hands routes the id and the
client address (as the ASGI server reports it: ``crosswalk serve`` believes
``X-Forwarded-For`` only from ``CROSSWALK_TRUSTED_PROXIES``) to put in their
events. An address that is not address-shaped is recorded as unknown: a bad
header must never fail the request.
"""

from __future__ import annotations

from fastapi import Request

from api.hub.audit.events import client_address
from api.hub.audit.log import RequestContext

__all__ = ["context_of", "request_context"]


def context_of(request: Request) -> RequestContext:
    """The current request's id and client address."""
    rid = request.scope.get("state", {}).get("request_id")
    client = client_address(request.client.host) if request.client else None
    return RequestContext(rid, client)


async def request_context(request: Request) -> RequestContext:
    """:func:`context_of` as a dependency (async: no thread-pool hop)."""
    return context_of(request)
