"""Domain errors of the service layer, and nothing else (a leaf module).

Tree::

    ServiceError
    ├── AuthenticationError    missing, unknown, expired or revoked token   → 401
    ├── PermissionDenied       authenticated but not allowed               → 403
    ├── NotFound               no such agency, user, subject, record, run  → 404
    ├── Conflict               already exists / state does not allow it    → 409
    ├── InvalidRequest         well-formed but unacceptable input          → 422
    ├── PayloadTooLarge        body over the configured limit              → 413
    ├── UnsupportedMediaType   body in the wrong content type              → 415
    ├── NotReady               no linkage model or store not ready yet     → 503
    ├── AuditUnavailable       the act's audit event cannot be written     → 503
    └── ConfigurationError     settings refused (e.g. a weak master key)   → 500

:mod:`api.web.error_handlers` maps each class to its status code; a test checks that
every class here is mapped. Messages never carry identifiers or context values.
"""

from __future__ import annotations

__all__ = [
    "AuditUnavailable",
    "AuthenticationError",
    "ConfigurationError",
    "Conflict",
    "InvalidRequest",
    "NotFound",
    "NotReady",
    "PayloadTooLarge",
    "PermissionDenied",
    "ServiceError",
    "UnsupportedMediaType",
]


class ServiceError(Exception):
    """Root of the service's domain errors."""


class AuthenticationError(ServiceError):
    """The request carries no valid bearer token."""


class PermissionDenied(ServiceError):
    """The user's role or agency does not allow this operation."""


class NotFound(ServiceError):
    """The named thing does not exist (or is not visible to this user)."""


class Conflict(ServiceError):
    """The operation clashes with the current state."""


class InvalidRequest(ServiceError):
    """The request is well-formed but its content is refused."""


class PayloadTooLarge(ServiceError):
    """The request body exceeds the configured limit."""


class UnsupportedMediaType(ServiceError):
    """The request body is not in the content type the endpoint takes."""


class NotReady(ServiceError):
    """A prerequisite (database, linkage model) is not available yet."""


class ConfigurationError(ServiceError):
    """The service's settings are refused (never raised by a request's content)."""


class AuditUnavailable(ServiceError):
    """The act's audit event cannot be written, so the act is refused (no log, no act)."""
