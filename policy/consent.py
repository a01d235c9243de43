"""The consent registry's domain: FHIR-shaped consents and the state they put a request in.

A :class:`Consent` follows FHIR R4 Consent: the subject is named through the
consenting agency's record (``owner`` + ``record_id``, never a plaintext
identifier), a grantor, recipients (agencies and/or roles), data categories,
purposes, a period and a status. Consents are never edited in place: every
change — revocation above all — is a **new version** with the same
``consent_id``, so the history stays auditable and a revocation takes effect on
the next request, which reads the latest version.

Consents follow records, not subjects: when linkage merges or splits subjects,
the consents that apply to a subject are those of its member records
(:func:`consents_for_records`), so they move with the records automatically.

A consent is identified by its agency *and* its id: ``consent_id`` is unique
only within the consenting agency, so another agency's consent that happens to
carry the same id is a different consent and can never stand in for a version
of this one. Every time is kept in UTC, from 1900-01-01 to 9999-12-31.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from policy.errors import ConsentError, ConsentFormatError
from policy.vocabulary import AGENCY_NAME, CATEGORIES, PURPOSES, ROLES

__all__ = [
    "CONSENT_ID",
    "CONSENT_STATUSES",
    "GRANTOR_MAX_LENGTH",
    "MAX_VERSION",
    "Consent",
    "Recipient",
    "Requester",
    "consent_state",
    "consents_for_records",
    "in_utc",
    "latest_versions",
    "revoke",
    "validate_consent",
]

#: FHIR R4 ``Consent.status``. Only ``active``, ``inactive`` (revoked) and
#: ``rejected`` (refused) are decisions; the others never grant or revoke.
CONSENT_STATUSES: tuple[str, ...] = (
    "draft",
    "proposed",
    "active",
    "rejected",
    "inactive",
    "entered-in-error",
)
_DECISIONS = frozenset({"active", "rejected", "inactive"})
#: A consent id: a FHIR id (unique within its agency, not across agencies).
CONSENT_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
#: The highest version: the registry stores versions as a 32-bit integer.
MAX_VERSION = 2**31 - 1
#: The longest grantor the registry stores (its column's width, in characters).
GRANTOR_MAX_LENGTH = 200
# Far enough inside ``datetime``'s range that no conversion to another offset
# (in Python, or in a PostgreSQL session's time zone) leaves the calendar; a
# consent period of "until 9999-12-31" still fits.
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, tzinfo=UTC)
_OUT_OF_RANGE = "not between 1900-01-01 and 9999-12-31 (UTC)"
# Control characters: PostgreSQL refuses NUL in text, and none belongs in a name.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who may receive: an agency, a role, or a role within an agency (at least one)."""

    agency: str | None = None
    role: str | None = None

    def matches(self, requester: Requester) -> bool:
        """Whether ``requester`` is this recipient (every field given must match)."""
        return (self.agency is None or self.agency == requester.agency) and (
            self.role is None or self.role == requester.role
        )


@dataclass(frozen=True, slots=True)
class Requester:
    """The user asking: their agency and role."""

    agency: str
    role: str


@dataclass(frozen=True, slots=True)
class Consent:
    """One version of a consent.

    Attributes:
        consent_id: stable across versions (a FHIR id), unique within ``owner``.
        version: 1, 2, … — the highest version is the one in force.
        status: one of :data:`CONSENT_STATUSES`.
        owner: the consenting agency, which holds the record and discloses.
        record_id: the subject, through ``owner``'s record id.
        grantor: who gave the consent (the subject, or a representative).
        recipients: who may receive; at least one.
        categories: data categories covered; at least one.
        purposes: purposes of use covered; at least one.
        period_start: when it starts to apply (``None``: at once).
        period_end: when it stops applying (``None``: until revoked).
        recorded: when the registry received this version (timezone-aware): the
            hub's own clock, never a client's, since it orders decisions.
    """

    consent_id: str
    version: int
    status: str
    owner: str
    record_id: str
    grantor: str
    recipients: tuple[Recipient, ...]
    categories: frozenset[str]
    purposes: frozenset[str]
    period_start: datetime | None
    period_end: datetime | None
    recorded: datetime

    def covers(self, owner: str, requester: Requester, category: str, purpose: str) -> bool:
        """Whether this consent speaks about this disclosure at all (whatever its status)."""
        return (
            self.owner == owner
            and category in self.categories
            and purpose in self.purposes
            and any(recipient.matches(requester) for recipient in self.recipients)
        )

    def in_period(self, now: datetime) -> bool:
        """Whether ``now`` falls within the consent's period."""
        started = self.period_start is None or self.period_start <= now
        return started and (self.period_end is None or now < self.period_end)


def validate_consent(consent: Consent) -> Consent:
    """``consent`` unchanged if consistent; else :class:`ConsentError` naming the field."""
    _check(CONSENT_ID.fullmatch(consent.consent_id) is not None, "consent_id", "not a FHIR id")
    _check(consent.version >= 1, "version", "versions start at 1")
    _check(consent.version <= MAX_VERSION, "version", f"at most {MAX_VERSION}")
    _check(consent.status in CONSENT_STATUSES, "status", "not a FHIR Consent status")
    _check(AGENCY_NAME.fullmatch(consent.owner) is not None, "owner", "not an agency name")
    _check(0 < len(consent.record_id) <= 128, "record_id", "1-128 characters")
    _check(not _CONTROL.search(consent.record_id), "record_id", "no control characters")
    _check(bool(consent.grantor.strip()), "grantor", "required")
    _check(len(consent.grantor) <= GRANTOR_MAX_LENGTH, "grantor", "at most 200 characters")
    _check(not _CONTROL.search(consent.grantor), "grantor", "no control characters")
    _check(bool(consent.recipients), "recipients", "at least one recipient")
    for i, recipient in enumerate(consent.recipients):
        where = f"recipients[{i}]"
        _check(recipient.agency is not None or recipient.role is not None, where, "empty")
        if recipient.agency is not None:
            _check(bool(AGENCY_NAME.fullmatch(recipient.agency)), f"{where}.agency", "bad name")
        _check(recipient.role in (None, *ROLES), f"{where}.role", "not a role")
    _check(bool(consent.categories), "categories", "at least one category")
    _check(consent.categories <= set(CATEGORIES), "categories", "unknown category")
    _check(bool(consent.purposes), "purposes", "at least one purpose")
    _check(consent.purposes <= set(PURPOSES), "purposes", "unknown purpose")
    for name in ("period_start", "period_end", "recorded"):
        moment = getattr(consent, name)
        _check(moment is None or moment.tzinfo is not None, name, "needs a timezone")
        _check(moment is None or _EARLIEST <= moment <= _LATEST, name, _OUT_OF_RANGE)
    if consent.period_start is not None and consent.period_end is not None:
        _check(consent.period_start < consent.period_end, "period_end", "not after the start")
    return consent


def _check(ok: bool, field: str, problem: str) -> None:
    if not ok:
        raise ConsentError(f"{field}: {problem}")


def in_utc(moment: datetime, field: str) -> datetime:
    """``moment`` converted to UTC: what the registry stores, whatever offset it was given in.

    Raises:
        ConsentFormatError: ``moment`` has no timezone, or leaves the calendar in UTC
            (``0001-01-01T00:00+01:00`` is in year 0).
    """
    if moment.tzinfo is None:
        raise ConsentFormatError(field, "needs a timezone")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ConsentFormatError(field, _OUT_OF_RANGE) from None


def revoke(consent: Consent, at: datetime) -> Consent:
    """The next version of ``consent``, revoked (FHIR status ``inactive``) at ``at``."""
    return validate_consent(
        replace(consent, version=consent.version + 1, status="inactive", recorded=at)
    )


def latest_versions(consents: Iterable[Consent]) -> tuple[Consent, ...]:
    """The version in force of each consent (the highest), in (id, agency) order.

    A consent is its agency's: versions of another agency's consent that carries
    the same id are another consent's, so they never replace this one's.
    """
    latest: dict[tuple[str, str], Consent] = {}
    for consent in consents:
        key = (consent.consent_id, consent.owner)
        held = latest.get(key)
        if held is None or consent.version > held.version:
            latest[key] = consent
    return tuple(latest[key] for key in sorted(latest))


def consents_for_records(
    consents: Iterable[Consent], records: Iterable[tuple[str, str]]
) -> tuple[Consent, ...]:
    """Consents given through any of ``records`` (``(agency, record_id)`` of one subject)."""
    members = set(records)
    return tuple(c for c in consents if (c.owner, c.record_id) in members)


def consent_state(
    consents: Sequence[Consent],
    owner: str,
    requester: Requester,
    category: str,
    purpose: str,
    now: datetime,
) -> str:
    """The consent state of one disclosure: ``granted``, ``revoked``, ``none`` or ``expired``.

    Only the latest version of each consent counts, and only if it is a decision
    (active, inactive, rejected) covering this owner, requester, category and
    purpose. Then:

    1. if the most recently recorded covering decision (by ``recorded``, the
       registry's receipt time; a refusal wins a tie) is a revocation or a
       refusal, ``revoked`` — the subject's last word stands;
    2. else if an active covering consent is within its period, ``granted``;
    3. else if an active covering consent's period has ended, ``expired``;
    4. else ``none`` (nothing on file, or not started yet).

    Raises:
        ConsentError: ``now`` has no timezone.
    """
    if now.tzinfo is None:
        raise ConsentError("now: needs a timezone")
    covering = [
        c
        for c in latest_versions(consents)
        if c.status in _DECISIONS and c.covers(owner, requester, category, purpose)
    ]
    if not covering:
        return "none"
    last = max(covering, key=lambda c: (c.recorded, c.status != "active"))
    if last.status != "active":
        return "revoked"
    active = [c for c in covering if c.status == "active"]
    if any(c.in_period(now) for c in active):
        return "granted"
    if any(c.period_end is not None and c.period_end <= now for c in active):
        return "expired"
    return "none"
