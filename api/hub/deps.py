"""Typed FastAPI dependencies shared by the routers.

``SessionDep`` gives a request-scoped session that commits when the route
returns and rolls back on any exception; ``CurrentUser`` authenticates the
bearer token (through the process's token cache); :func:`require_roles`
builds a dependency that also checks the role; ``AuditContextDep`` is the
request id and client address for audit events. Routes declare exactly one of
these and stay thin. A refused token (``auth.failure``) or role
(``access.denied``) is an audit event written in a transaction of its own:
there is no act for it to join. Refused tokens are throttled to one event per
client address a minute, with a count (:mod:`api.hub.audit.throttle`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.db import session_scope
from api.errors import AuthenticationError, PermissionDenied
from api.hub.audit import EventKind, RequestContext, record_alone
from api.hub.audit.context import request_context
from api.hub.identity.service import Principal, authenticate_digest
from api.hub.identity.token_cache import TokenCache
from api.hub.identity.tokens import hash_token
from api.hub.services import HubServices
from api.hub.settings import Settings
from policy.vocabulary import Role

__all__ = [
    "AuditContextDep",
    "CurrentUser",
    "ServicesDep",
    "SessionDep",
    "SettingsDep",
    "get_engine",
    "get_services",
    "get_session",
    "get_settings_dep",
    "require_roles",
    "services_of",
]

_bearer = HTTPBearer(auto_error=False, description="Token from `crosswalk admin issue-token`")


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def``
# dependency in the thread pool, a hop that costs more than the work itself on
# the resolve hot path.


def services_of(request: Request) -> HubServices:
    """The process's services, which the app's lifespan started."""
    services: HubServices = request.app.state.services
    return services


async def get_services(request: Request) -> HubServices:
    """The process's services (a dependency)."""
    return services_of(request)


async def get_engine(request: Request) -> Engine:
    """The engine the app's lifespan built."""
    return services_of(request).engine


async def get_settings_dep(request: Request) -> Settings:
    """The app's settings."""
    return services_of(request).settings


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    """One transaction per request."""
    with session_scope(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ServicesDep = Annotated[HubServices, Depends(get_services)]
AuditContextDep = Annotated[RequestContext, Depends(request_context)]


def _operation(request: Request) -> str:
    """The route's name (never the concrete path, which may hold a subject id)."""
    return str(getattr(request.scope.get("route"), "name", "unknown"))


def _authenticate_from_store(engine: Engine, tokens: TokenCache, digest: str) -> Principal:
    generation = tokens.generation  # before the read: see TokenCache.remember
    with Session(engine) as session:
        principal, expires_at = authenticate_digest(session, digest)
    tokens.remember(digest, principal, expires_at, generation)
    return principal


async def get_current_user(
    request: Request,
    engine: Annotated[Engine, Depends(get_engine)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    context: AuditContextDep,
) -> Principal:
    """Authenticate the bearer token: from this process's cache, else the store.

    A cache hit does no I/O and stays on the event loop; a miss reads the store
    in its own short transaction on a worker thread (:mod:`api.hub.identity.token_cache`).
    """
    tokens: TokenCache = services_of(request).tokens
    try:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise AuthenticationError("a bearer token is required")
        digest = hash_token(credentials.credentials)
        cached = tokens.lookup(digest)
        if cached is not None:
            return cached
        return await run_in_threadpool(_authenticate_from_store, engine, tokens, digest)
    except AuthenticationError:
        count = services_of(request).auth_failures.admit(context.client)
        if count is None:
            raise  # counted in the next event for this client
        cause = "missing_token" if credentials is None else "invalid_token"
        await run_in_threadpool(
            record_alone,
            engine,
            EventKind.AUTH_FAILURE,
            context=context,
            decision="deny",
            details={"cause": cause, "operation": _operation(request), "count": count},
        )
        raise


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only users holding one of ``roles``."""
    allowed = frozenset(roles)

    async def check(
        user: CurrentUser,
        request: Request,
        engine: Annotated[Engine, Depends(get_engine)],
        context: AuditContextDep,
    ) -> Principal:
        if user.role not in allowed:
            await run_in_threadpool(
                record_alone,
                engine,
                EventKind.ACCESS_DENIED,
                actor=user,
                context=context,
                decision="deny",
                rule="role",
                details={"operation": _operation(request)},
            )
            raise PermissionDenied("this operation is not open to your role")
        return user

    return check
