"""One process's audit machinery: keys, the sealer thread, verification, purges.

The app's lifespan builds an :class:`AuditService` and keeps it on
``app.state.audit``; the CLI builds one for ``crosswalk audit``. The signing key
comes from the settings (:meth:`api.hub.settings.Settings.audit_signing_key_text`).
``crosswalk serve`` refuses to start without one outside development; an app
built directly without a key still records and seals events but signs no heads
(and says so in the log and in verification reports).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, Table, delete, func, select

from api.db import session_scope, utcnow
from api.errors import ConfigurationError, InvalidRequest, NotReady
from api.hub.audit.events import Actor, EventKind
from api.hub.audit.log import CLI_CONTEXT, RequestContext, record
from api.hub.audit.sealer import AuditSealer, SealPolicy
from api.hub.audit.search import ACCOUNTING_YEARS
from api.hub.audit.signing import TreeHeadSigner, parse_private_key
from api.hub.audit.tables import AuditChain, AuditEvent, AuditPurgePermit
from api.hub.audit.verify import VerifyReport, verify_log
from api.hub.settings import Settings

__all__ = ["AuditService", "PurgeOutcome", "signer_from_settings"]

log = logging.getLogger(__name__)
_CHAIN: Table = AuditChain.__table__  # type: ignore[attr-defined]
_EVENT: Table = AuditEvent.__table__  # type: ignore[attr-defined]


def signer_from_settings(settings: Settings) -> TreeHeadSigner | None:
    """The configured signer; ``None`` (logged) when production lacks a key."""
    try:
        return TreeHeadSigner(parse_private_key(settings.audit_signing_key_text()))
    except (ConfigurationError, ValueError) as exc:
        log.error("audit tree heads will not be signed: %s", exc)
        return None


@dataclass(frozen=True)
class PurgeOutcome:
    """What a retention purge removed."""

    through_seq: int
    events: int


class AuditService:
    """Sealer, verification and retention for one engine."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.signer = signer_from_settings(settings)
        policy = SealPolicy(settings.audit_head_every_events, settings.audit_head_every_seconds)
        self.sealer = AuditSealer(engine, self.signer, policy)

    @property
    def public_key(self) -> Ed25519PublicKey | None:
        """The key tree heads are signed with."""
        return self.signer.public_key if self.signer else None

    def start(self) -> None:
        """Start sealing in the background (per the settings)."""
        self.sealer.start(self.settings.audit_seal_interval_seconds)

    def close(self) -> None:
        """Stop the sealer thread."""
        self.sealer.stop()

    def verify(self) -> VerifyReport:
        """Seal what is queued, then verify the whole log."""
        self.sealer.seal()
        with self.engine.connect() as connection:
            return verify_log(connection, self.public_key)

    def purge_before(
        self,
        cutoff: datetime,
        *,
        actor: Actor | None = None,
        context: RequestContext = CLI_CONTEXT,
        now: datetime | None = None,
    ) -> PurgeOutcome:
        """Remove events older than ``cutoff``, leaving their chain entries and a signed record.

        Only a prefix of the chain is purged (events up to the first one at or
        after ``cutoff``). The purge is first written as an event, sealed and
        covered by a freshly signed head; then the events go.

        Raises:
            InvalidRequest: ``cutoff`` is less than six years ago (disclosures
                must be accountable that long).
            NotReady: no signing key is configured.
        """
        now = now or utcnow()
        if cutoff > now - timedelta(days=365 * ACCOUNTING_YEARS + 2):
            raise InvalidRequest(f"audit events are kept at least {ACCOUNTING_YEARS} years")
        if self.signer is None:
            raise NotReady("a purge must be signed: configure CROSSWALK_AUDIT_SIGNING_KEY")
        self.sealer.seal()
        with session_scope(self.engine) as session:
            connection = session.connection()
            first_new = connection.execute(
                select(func.min(_CHAIN.c.seq))
                .select_from(_CHAIN.join(_EVENT, _EVENT.c.id == _CHAIN.c.event_id))
                .where(_EVENT.c.occurred_at >= cutoff)
            ).scalar()
            size = connection.execute(select(func.coalesce(func.max(_CHAIN.c.seq), 0))).scalar_one()
            through = (first_new - 1) if first_new is not None else size
            events = connection.execute(
                select(func.count())
                .select_from(_CHAIN.join(_EVENT, _EVENT.c.id == _CHAIN.c.event_id))
                .where(_CHAIN.c.seq <= through)
            ).scalar_one()
            if events == 0:
                return PurgeOutcome(through, 0)
            record(
                session,
                EventKind.AUDIT_PURGE,
                actor=actor,
                context=context,
                details={
                    "through_seq": through,
                    "events": events,
                    "cutoff": int(cutoff.timestamp()),
                },
            )
        self.sealer.seal(sign_now=True)
        with session_scope(self.engine) as session:
            connection = session.connection()
            connection.execute(AuditPurgePermit.__table__.insert(), {"through_seq": through})  # type: ignore[attr-defined]
            connection.execute(
                delete(_EVENT).where(
                    _EVENT.c.id.in_(select(_CHAIN.c.event_id).where(_CHAIN.c.seq <= through))
                )
            )
            connection.execute(delete(AuditPurgePermit.__table__))  # type: ignore[attr-defined]
        log.info("audit retention purge: %d events through seq %d", events, through)
        return PurgeOutcome(through, events)
