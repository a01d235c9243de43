"""Liveness, readiness and Prometheus metrics (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.hub.deps import services_of
from api.hub.migrations import database_revision, head_revision

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The database answers at this code's schema revision (the index is loaded at start)."""
    try:
        with services_of(request).engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = database_revision(connection)
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    if revision != head_revision():
        # A database behind (or ahead of) the code: its queries would fail.
        return JSONResponse({"status": "unavailable", "database": "schema out of date"}, 503)
    linking = services_of(request).linking
    return JSONResponse(
        {
            "status": "ready",
            "database": "ok",
            "index_records": len(linking.index) if linking.index is not None else 0,
            "model": linking.model is not None,
        }
    )


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    body = services_of(request).metrics.render()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
