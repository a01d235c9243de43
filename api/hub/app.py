"""The FastAPI application factory.

``create_app(settings)`` wires settings, routers, error handlers, metrics and
request ids; the lifespan builds the database engine (never at import time),
brings the schema up to date, checks the master key, starts the audit sealer,
loads the linkage service's in-memory index and the published policy (which it
then follows: a publish in any process reaches this one within a second).
``crosswalk serve`` runs it with uvicorn; tests build apps with their own
settings and drive them through ``TestClient``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from api.db import make_engine, upgrade_database
from api.hub.audit.context import RequestIdMiddleware
from api.hub.audit.service import AuditService
from api.hub.identity.token_cache import TokenCache
from api.hub.linking.loop_resolve import LoopResolver
from api.hub.linking.service import LinkService
from api.hub.policies.service import PolicyService
from api.hub.routes import admin, audit, consents, health, linkage_runs, policies, records, subjects
from api.hub.settings import Settings, get_settings
from api.hub.views.service import SubjectViews
from api.web.error_handlers import install_error_handlers
from api.web.metrics import Metrics, MetricsMiddleware

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
        app.state.master_key = settings.master_key_bytes()
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        engine = make_engine(settings.database_url)
        if migrate:
            upgrade_database(engine)
        app.state.engine = engine
        app.state.tokens = TokenCache(engine, settings.token_cache_seconds)
        app.state.tokens.start()
        app.state.audit = AuditService(engine, settings)
        app.state.audit.start()
        app.state.linking = LinkService(engine, settings, metrics)
        app.state.linking.load()
        app.state.resolver = LoopResolver.for_service(app.state.linking)
        app.state.policy = PolicyService(engine, settings)
        app.state.policy.start()
        app.state.views = SubjectViews(engine, settings, app.state.policy, app.state.master_key)
        try:
            yield
        finally:
            app.state.policy.close()
            app.state.linking.close()
            app.state.audit.close()
            app.state.tokens.close()
            if app.state.resolver is not None:
                app.state.resolver.close()
            engine.dispose()

    app = FastAPI(
        title="Crosswalk hub",
        version="0.1.0",
        summary="Privacy-preserving record linkage and consent for co-response programs.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    for module in (health, admin, records, linkage_runs, subjects, policies, consents, audit):
        app.include_router(module.router)
    return app
