"""The gateway service: a responder's plaintext in, the hub's policy-filtered answers out.

``create_gateway_app(settings)`` builds the FastAPI app ``crosswalk gateway
serve`` runs. Its JSON API, under ``/api``, takes the user's own hub token
(``Authorization: Bearer …``) and passes it to the hub on every call:

* ``POST /api/resolve[?purpose=…]`` — plaintext identifiers (any subset of the
  canonical fields; at least a name or a birth date) are encoded here with the
  agency's secret and resolved at the hub; the answer is the hub's candidates,
  unchanged, plus confirmation aids per candidate (:mod:`api.gateway.confirm`);
* ``GET /api/subjects/{id}?purpose=…`` — the hub's filtered view, unchanged;
* ``POST /api/subjects/{id}/break-glass`` — the hub's break-glass, unchanged.

Malformed input is a 422 naming the field (never its value); a hub that is
down is a 503 saying so; the hub's own 4xx answers pass through as they are.
Plaintext never leaves this process except as the agency's own records shown
back to its own users.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path as FilePath
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from api.gateway.hub_client import HubClient, HubUnavailable
from api.gateway.local_store import LocalStore
from api.gateway.pages import routes as pages
from api.gateway.query import PersonQuery
from api.gateway.responder import AnswerError, GatewayServices, passed, resolve_with_aids
from api.gateway.scheduled import SyncSchedule
from api.gateway.settings import GatewaySettings
from api.web.body_limit import BodyLimitMiddleware
from api.web.error_handlers import install_error_handlers
from api.web.request_id import RequestIdMiddleware
from api.web.sessions import SessionStore
from linkage.encode.encoding import RecordEncoder

__all__ = ["create_gateway_app", "services_of"]

_MAX_BODY = 64 * 1024
_STATIC = FilePath(__file__).parent / "pages" / "static"


def services_of(request: Request) -> GatewayServices:
    """The process's gateway services."""
    services: GatewayServices = request.app.state.gateway
    return services


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AnswerError(401, {"detail": "sign in with your hub token (Authorization: Bearer …)"})
    return token.strip()


def create_gateway_app(
    settings: GatewaySettings, *, hub_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The gateway's app (``hub_transport``: tests route hub calls in-process)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = LocalStore(settings.database)
        hub = HubClient(settings.hub_url, settings.hub_timeout_seconds, hub_transport)
        encoder = RecordEncoder(settings.schema, settings.secret, settings.agency)
        app.state.gateway = GatewayServices(settings, hub, store, encoder)
        app.state.sessions = SessionStore(settings.session_minutes, secure=settings.cookie_secure)
        schedule = SyncSchedule(settings, store) if settings.sync_every_minutes else None
        if schedule is not None:
            schedule.start()
        try:
            yield
        finally:
            if schedule is not None:
                schedule.stop()
            await hub.close()
            store.close()

    app = FastAPI(
        title=f"Crosswalk gateway ({settings.agency})", version="0.1.0", lifespan=lifespan
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=_MAX_BODY)
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)

    @app.exception_handler(AnswerError)
    async def _answer(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AnswerError)  # noqa: S101 - registered for this type only
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(HubUnavailable)
    async def _hub_down(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": f"the hub is unavailable: {exc}"}, status_code=503,
            headers={"Retry-After": "5"},
        )  # fmt: skip

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The gateway is up (says nothing of the hub)."""
        return {"status": "ok", "agency": settings.agency}

    @app.post("/api/resolve", tags=["responder"])
    async def resolve(
        request: Request,
        query: PersonQuery,
        authorization: Annotated[str | None, Header()] = None,
        purpose: Annotated[str | None, Query(max_length=40)] = None,
    ) -> Any:
        """The hub's candidates for this person, and what helps confirm each."""
        token = _bearer(authorization)
        return await resolve_with_aids(services_of(request), token, query, purpose)

    @app.get("/api/subjects/{subject_id}", tags=["responder"])
    async def subject(
        request: Request,
        subject_id: Annotated[str, Path(max_length=64)],
        purpose: Annotated[str, Query(max_length=40)],
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        """The hub's policy-filtered view of the subject, as the hub gave it."""
        token = _bearer(authorization)
        return passed(await services_of(request).hub.subject(token, subject_id, purpose))

    @app.post("/api/subjects/{subject_id}/break-glass", tags=["responder"], status_code=201)
    async def break_glass(
        request: Request,
        subject_id: Annotated[str, Path(max_length=64)],
        body: dict[str, Any],
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        """The hub's break-glass grant (purpose ``emergency`` and a reason)."""
        token = _bearer(authorization)
        return passed(await services_of(request).hub.break_glass(token, subject_id, body))

    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(_STATIC)), name="static")
    return app
