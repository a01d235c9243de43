"""One table from domain errors to HTTP status codes, installed on the app.

Every :class:`api.errors.ServiceError` subclass must appear in
:data:`STATUS_BY_ERROR`, and every :class:`policy.PolicyError` subclass in
:data:`POLICY_STATUS_BY_ERROR` (tests enforce both); linkage data errors are
client errors (422). The response body is ``{"detail": message}`` plus, for
refused submission batches, the per-record ``problems`` and, for a policy or
FHIR document that names something outside its closed lists, the ``field``.
A lost database (:data:`UNAVAILABLE_ERRORS`) is a 503 with ``Retry-After``;
anything else unexpected is a generic 500 from :class:`UnexpectedErrorMiddleware`.
Neither logs more than the exception's type and the request id: the message of a
database error carries SQL, and the driver's may quote the very values bound.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from linkage.admission import BatchRejected
from linkage.errors import LinkageError
from policy import errors as policy_errors

__all__ = [
    "POLICY_STATUS_BY_ERROR",
    "RETRY_AFTER_SECONDS",
    "STATUS_BY_ERROR",
    "UNAVAILABLE_ERRORS",
    "UnexpectedErrorMiddleware",
    "install_error_handlers",
]

logger = logging.getLogger(__name__)

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

#: The database is unreachable or dropped the connection: the request may be
#: retried, so 503 with ``Retry-After`` rather than a 500. (SQLAlchemy wraps a
#: DBAPI disconnect as ``OperationalError``; a broken driver connection as
#: ``InterfaceError``; a failed pre-ping as ``DisconnectionError``.)
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
)
RETRY_AFTER_SECONDS = 5


#: Policy errors: bad rules and documents are the client's (422), writing outside
#: one's scope is forbidden (403); a broken model or a failed evaluation is ours.
POLICY_STATUS_BY_ERROR: dict[type[policy_errors.PolicyError], int] = {
    policy_errors.PolicyValidationError: 422,
    policy_errors.PolicyFormatError: 422,
    policy_errors.PolicyAuthorityError: 403,
    policy_errors.ConsentFormatError: 422,
    policy_errors.ConsentError: 422,
    policy_errors.PolicyModelError: 500,
    policy_errors.PolicyEvaluationError: 500,
    policy_errors.PolicyError: 500,
}


def _policy_error(_request: Request, exc: Exception) -> JSONResponse:
    status = next(
        (code for kind, code in POLICY_STATUS_BY_ERROR.items() if isinstance(exc, kind)), 500
    )
    body: dict[str, object] = {"detail": str(exc) if status < 500 else "policy failure"}
    field = getattr(exc, "field", None)
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status_code=status)


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


def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422, minus what it would echo: each error's ``input`` (and ``url``).

    The default handler returns the offending value with each error; a value
    sent where a name, a date or a reason belongs would come straight back and
    land in whatever logs the response. The location (which field) and the
    message stay.
    """
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type only
    detail = [
        {key: value for key, value in error.items() if key in _VALIDATION_KEYS}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": jsonable_encoder(detail)}, status_code=422)


_VALIDATION_KEYS = frozenset({"type", "loc", "msg", "ctx"})


def _request_id(scope: Scope) -> str:
    state = scope.get("state") or {}
    return str(state.get("request_id", "-"))


def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning(
        "database unavailable (%s), request %s", type(exc).__name__, _request_id(request.scope)
    )
    return JSONResponse(
        {"detail": "database unavailable; retry shortly"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class UnexpectedErrorMiddleware:
    """Answer any exception no handler took with a generic 500, logging only its type.

    Starlette's own 500 path re-raises so that the server logs the traceback,
    message included; this swallows the exception instead (a response already
    under way is cut off with a bare error that carries nothing of the original).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            rid = _request_id(scope)
            kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
            logger.error("unexpected %s, request %s", kind, rid)  # no message: it may quote values
            if started:
                raise RuntimeError(f"response interrupted by {kind}") from None
            body = {"detail": "internal error", "request_id": rid}
            await JSONResponse(body, status_code=500, headers={"X-Request-ID": rid})(
                scope, receive, send
            )


def _document_domain_422(app: FastAPI) -> None:
    """Declare that a 422's ``detail`` is FastAPI's list of errors *or* a domain message.

    FastAPI documents every 422 as its own validation list; a domain refusal
    (``InvalidRequest``, a linkage or policy error) answers ``{"detail": message}``
    with the same status, which the document must allow (schemathesis found it).
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schema = document.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if schema is not None:
                listed = schema["properties"]["detail"]
                schema["properties"]["detail"] = {
                    "anyOf": [listed, {"type": "string"}],
                    "title": "Detail",
                }
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above (and the catch-all, outermost of the middleware so far)."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(errors.ServiceError, _service_error)
    app.add_exception_handler(BatchRejected, _batch_rejected)
    app.add_exception_handler(LinkageError, _linkage_error)
    app.add_exception_handler(policy_errors.PolicyError, _policy_error)
    for kind in UNAVAILABLE_ERRORS:
        app.add_exception_handler(kind, _database_unavailable)
    app.add_middleware(UnexpectedErrorMiddleware)
    _document_domain_422(app)
