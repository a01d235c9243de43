"""The tamper-evident audit log (DESIGN §5).

Modules: :mod:`~api.hub.audit.events` (kinds, fields, privacy guard, canonical
form), :mod:`~api.hub.audit.log` (``record`` in the act's transaction),
:mod:`~api.hub.audit.merkle` (RFC 6962, framework-free), :mod:`~api.hub.audit.signing`
(Ed25519 tree heads), :mod:`~api.hub.audit.sealer` (chaining and signing),
:mod:`~api.hub.audit.verify`, :mod:`~api.hub.audit.heads` (proofs),
:mod:`~api.hub.audit.search` (auditor queries), :mod:`~api.hub.audit.access` (the
auditor's acts, each recorded first), :mod:`~api.hub.audit.service` (per
process), :mod:`~api.hub.audit.context` (request ids), :mod:`~api.hub.audit.tables`.

Other code needs only :func:`record` / :func:`record_alone`, :class:`EventKind`
and :class:`RequestContext`.
"""

from api.hub.audit.events import AuditFieldError, EventKind
from api.hub.audit.log import CLI_CONTEXT, RequestContext, record, record_alone

__all__ = [
    "CLI_CONTEXT",
    "AuditFieldError",
    "EventKind",
    "RequestContext",
    "record",
    "record_alone",
]
