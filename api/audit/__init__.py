"""The tamper-evident audit log (DESIGN §5).

Modules: :mod:`~api.audit.events` (kinds, fields, privacy guard, canonical
form), :mod:`~api.audit.log` (``record`` in the act's transaction),
:mod:`~api.audit.merkle` (RFC 6962, framework-free), :mod:`~api.audit.signing`
(Ed25519 tree heads), :mod:`~api.audit.sealer` (chaining and signing),
:mod:`~api.audit.verify`, :mod:`~api.audit.heads` (proofs),
:mod:`~api.audit.search` (auditor queries), :mod:`~api.audit.service` (per
process), :mod:`~api.audit.context` (request ids), :mod:`~api.audit.tables`.

Other code needs only :func:`record` / :func:`record_alone`, :class:`EventKind`
and :class:`RequestContext`.
"""

from api.audit.events import AuditFieldError, EventKind
from api.audit.log import CLI_CONTEXT, RequestContext, record, record_alone

__all__ = [
    "CLI_CONTEXT",
    "AuditFieldError",
    "EventKind",
    "RequestContext",
    "record",
    "record_alone",
]
