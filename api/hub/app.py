"""The FastAPI application factory.

``create_app(settings)`` wires settings, routers, error handlers, metrics and
request ids; the lifespan starts the process's :class:`~api.hub.services.HubServices`
(engine, never at import time; schema migration; master-key check; audit sealer;
the linkage service's in-memory index; the published policy, which it then
follows: a publish in any process reaches this one within a second).
``crosswalk serve`` runs it with uvicorn; tests build apps with their own
settings and drive them through ``TestClient``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.hub.routes import (
    admin,
    audit,
    consents,
    health,
    linkage_runs,
    me,
    policies,
    records,
    subjects,
)
from api.hub.services import HubServices
from api.hub.settings import Settings, get_settings
from api.web.body_limit import BodyLimitMiddleware
from api.web.error_handlers import install_error_handlers
from api.web.metrics import Metrics, MetricsMiddleware
from api.web.request_id import RequestIdMiddleware

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """A configured application.

    Args:
        settings: Explicit settings (tests); the environment's otherwise.
        migrate: Upgrade the database schema at start-up.
    """
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = HubServices.start(settings, metrics, migrate=migrate)
        app.state.services = services
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="Crosswalk hub",
        version="0.1.0",
        summary="Privacy-preserving record linkage and consent for co-response programs.",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    for module in (health, me, admin, records, linkage_runs, subjects, policies, consents, audit):
        app.include_router(module.router)
    return app
