"""One table from domain errors to HTTP status codes, installed on the app.

Every :class:`api.errors.ServiceError` subclass must appear in
:data:`STATUS_BY_ERROR` (a test enforces it); linkage data errors are client
errors (422). The response body is ``{"detail": message}`` plus, for refused
submission batches, the per-record ``problems``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api import errors
from api.submission_validation import BatchRejected
from linkage.errors import LinkageError

__all__ = ["STATUS_BY_ERROR", "install_error_handlers"]

STATUS_BY_ERROR: dict[type[errors.ServiceError], int] = {
    errors.AuthenticationError: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.InvalidRequest: 422,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.NotReady: 503,
    errors.AuditUnavailable: 503,
    errors.ConfigurationError: 500,
}


def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    status = next((code for kind, code in STATUS_BY_ERROR.items() if isinstance(exc, kind)), 500)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)


def _batch_rejected(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BatchRejected)  # noqa: S101 - registered for this type only
    problems = [
        {
            "line": p.line,
            "record_id": p.record_id,
            "reason": p.reason,
            "field": p.field,
            "detail": p.message,
        }
        for p in exc.problems
    ]
    return JSONResponse(
        {"detail": "batch refused; nothing was stored", "problems": problems}, status_code=422
    )


def _linkage_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above."""
    app.add_exception_handler(errors.ServiceError, _service_error)
    app.add_exception_handler(BatchRejected, _batch_rejected)
    app.add_exception_handler(LinkageError, _linkage_error)
