"""One table from domain errors to HTTP status codes, installed on the app.

Every :class:`api.errors.ServiceError` subclass must appear in
:data:`STATUS_BY_ERROR`, and every :class:`policy.PolicyError` subclass in
:data:`POLICY_STATUS_BY_ERROR` (tests enforce both); linkage data errors are
client errors (422). The response body is ``{"detail": message}`` plus, for
refused submission batches, the per-record ``problems`` and, for a policy or
FHIR document that names something outside its closed lists, the ``field``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api import errors
from linkage.admission import BatchRejected
from linkage.errors import LinkageError
from policy import errors as policy_errors

__all__ = ["POLICY_STATUS_BY_ERROR", "STATUS_BY_ERROR", "install_error_handlers"]

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


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(errors.ServiceError, _service_error)
    app.add_exception_handler(BatchRejected, _batch_rejected)
    app.add_exception_handler(LinkageError, _linkage_error)
    app.add_exception_handler(policy_errors.PolicyError, _policy_error)
