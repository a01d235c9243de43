"""Audit events: the closed list of kinds and fields, the privacy guard, the canonical form.

An event says who (user, role, agency), what (kind, subject id, categories returned
and withheld, decision, deciding rule, policy version), when (UTC), why (purpose,
reason, incident number), from where (client address) and under which request id.
Every field comes from a closed vocabulary or must look like an id (letters, digits,
``_ . : -``, no spaces, bounded); the one free-text field is ``reason`` (bounded,
and refused when it holds an SSN-, date- or phone-shaped run of digits, or a
name- or street-address-shaped run of words). ``details`` carries ids, counts and
category names only (and ``token_issued_by``, the issuer of an actor's token when
an admin or the CLI minted it for them). So an event cannot carry a plaintext
identifier or a context value by accident: :func:`build_event` raises
:class:`AuditFieldError` first. (Ids are not scanned for digit patterns: hub-made
ids are random hex and would trip them by chance, and a refused event fails its act.)

:func:`canonical_bytes` is the exact byte string a leaf of the log's hash chain and
Merkle tree commits to; the verifier recomputes it from the stored columns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

import orjson

from api.errors import InvalidRequest
from api.privacy import looks_identifying, looks_like_name_or_address
from policy.vocabulary import CATEGORIES, PURPOSES

__all__ = [
    "CANONICAL_FIELDS",
    "DECISIONS",
    "DISCLOSURE_KINDS",
    "MAX_REASON_CHARS",
    "Actor",
    "AuditFieldError",
    "EventKind",
    "EventValues",
    "build_event",
    "canonical_bytes",
    "client_address",
    "join_categories",
    "looks_identifying",
    "split_categories",
]

MAX_REASON_CHARS = 500
#: Decisions an event may record; acts that decide nothing leave it empty.
DECISIONS: tuple[str, ...] = ("permit", "deny", "partial")


class EventKind(StrEnum):
    """Every kind of audit event (DESIGN §5)."""

    AUTH_FAILURE = "auth.failure"
    ACCESS_DENIED = "access.denied"
    SUBJECT_RESOLVE = "subject.resolve"
    SUBJECT_VIEW = "subject.view"  # one per owning agency: returned and withheld categories
    SUBJECT_RECORDS = "subject.records"
    BREAK_GLASS = "subject.break_glass"
    POLICY_EDIT = "policy.edit"
    POLICY_PUBLISH = "policy.publish"
    CONSENT_CHANGE = "consent.change"
    AGENCY_CREATE = "identity.agency_create"
    USER_CREATE = "identity.user_create"
    USER_CJIS = "identity.user_cjis"
    TOKEN_ISSUE = "identity.token_issue"  # noqa: S105 - an event name, not a secret
    TOKEN_REVOKE = "identity.token_revoke"  # noqa: S105 - an event name, not a secret
    RECORD_SUBMIT = "record.submit"
    RECORD_RETRACT = "record.retract"
    SUBJECT_MERGE = "linkage.merge"
    SUBJECT_SPLIT = "linkage.split"
    REVIEW_DECISION = "linkage.review_decision"
    LINKAGE_RUN_START = "linkage.run_start"
    AUDIT_ACCESS = "audit.access"
    AUDIT_BREAK_GLASS_REVIEW = "audit.break_glass_review"
    AUDIT_PURGE = "audit.retention_purge"


#: Kinds that can disclose context; the accounting of disclosures lists these
#: events whose ``categories`` (returned) are not empty.
DISCLOSURE_KINDS: frozenset[str] = frozenset({EventKind.SUBJECT_VIEW, EventKind.BREAK_GLASS})

#: Column order of the canonical form (and of exports).
CANONICAL_FIELDS: tuple[str, ...] = (
    "id",
    "occurred_at",
    "kind",
    "actor_user_id",
    "actor_username",
    "actor_role",
    "actor_agency",
    "subject_id",
    "agency",
    "categories",
    "withheld",
    "decision",
    "rule",
    "policy_version",
    "purpose",
    "reason",
    "incident",
    "break_glass",
    "client",
    "request_id",
    "details",
)
_FORMAT = 1

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_CLIENT = re.compile(r"[A-Za-z0-9_.:\[\]-]{1,64}")


class AuditFieldError(InvalidRequest):
    """An event field is outside its vocabulary or could carry plaintext (→ 422)."""


def client_address(value: str | None) -> str | None:
    """``value`` if it can be an event's ``client``, else ``None``.

    The address comes from the connection, or from a trusted proxy's
    ``X-Forwarded-For``; a malformed one is recorded as unknown rather than
    failing the request (as :func:`build_event` would, with a 422).
    """
    return value if value is not None and _CLIENT.fullmatch(value) else None


def _id(name: str, value: str | None, max_chars: int = 128) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_chars or not _ID.fullmatch(value):
        raise AuditFieldError(f"audit field {name} must be an id (letters, digits, _ . : -)")
    return value


def _choice(name: str, value: str | None, allowed: Iterable[str]) -> str | None:
    if value is not None and value not in allowed:
        raise AuditFieldError(f"audit field {name} is not in its vocabulary")
    return value


def join_categories(name: str, categories: Iterable[str]) -> str:
    """Categories as stored: sorted, comma-wrapped (``,housing,medical,``), '' when none."""
    chosen = sorted(set(categories))
    for category in chosen:
        _choice(name, category, CATEGORIES)
    return f",{','.join(chosen)}," if chosen else ""


def split_categories(stored: str) -> list[str]:
    """The list form of :func:`join_categories`."""
    return [c for c in stored.split(",") if c]


def _detail_value(value: Any, depth: int = 0) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AuditFieldError("audit detail numbers must be finite")
        return value
    if isinstance(value, str):
        return _id("detail", value)
    if depth < 2 and isinstance(value, list | tuple) and len(value) <= 10_000:
        return [_detail_value(v, depth + 1) for v in value]
    if depth < 2 and isinstance(value, Mapping):
        return {
            _id("detail key", str(k), 64): _detail_value(v, depth + 1) for k, v in value.items()
        }
    raise AuditFieldError("audit details hold ids, counts and category names only")


def _details(details: Mapping[str, Any] | None) -> str:
    if not details:
        return "{}"
    clean = _detail_value(dict(details))
    return orjson.dumps(clean, option=orjson.OPT_SORT_KEYS).decode()


def _reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    text = " ".join(reason.split())
    if not text or len(text) > MAX_REASON_CHARS or not text.isprintable():
        raise AuditFieldError(f"a reason is 1-{MAX_REASON_CHARS} printable characters")
    if looks_identifying(text):
        raise AuditFieldError("a reason must not contain identifiers, dates or phone numbers")
    if looks_like_name_or_address(text):
        raise AuditFieldError(
            "a reason must not contain names or addresses (two or more capitalised words"
            " in a row, or a street address); describe the situation without them"
        )
    return text


class Actor(Protocol):
    """Who acted, as the log records it: an authenticated caller's four ids.

    The audit package sits below identity and so takes this protocol rather than
    identity's ``Principal`` (which satisfies it).
    """

    @property
    def user_id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def agency(self) -> str: ...

    @property
    def issued_by(self) -> str | None:
        """Who minted the caller's token for them (an admin's username, ``cli``), if not they."""


@dataclass(frozen=True, slots=True)
class EventValues:
    """A checked event, ready to be stored (column name → value)."""

    values: dict[str, Any]


def build_event(
    kind: str,
    *,
    actor: Actor | None = None,
    subject_id: str | None = None,
    agency: str | None = None,
    categories: Iterable[str] = (),
    withheld: Iterable[str] = (),
    decision: str | None = None,
    rule: str | None = None,
    policy_version: str | None = None,
    purpose: str | None = None,
    reason: str | None = None,
    incident: str | None = None,
    break_glass: bool = False,
    client: str | None = None,
    request_id: str | None = None,
    details: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> EventValues:
    """Check every field against its vocabulary and return the column values.

    Raises:
        AuditFieldError: a field is unknown, malformed, or could carry plaintext.
    """
    try:
        kind = EventKind(kind).value
    except ValueError as exc:
        raise AuditFieldError("unknown audit event kind") from exc
    if client is not None and not _CLIENT.fullmatch(client):
        raise AuditFieldError("audit field client must be a network address")
    return EventValues(
        {
            "occurred_at": occurred_at or datetime.now(UTC),
            "kind": kind,
            "actor_user_id": actor.user_id if actor else None,
            "actor_username": actor.username if actor else None,
            "actor_role": str(actor.role) if actor else None,
            "actor_agency": actor.agency if actor else None,
            "subject_id": _id("subject_id", subject_id, 64),
            "agency": _id("agency", agency, 64),
            "categories": join_categories("categories", categories),
            "withheld": join_categories("withheld", withheld),
            "decision": _choice("decision", decision, DECISIONS),
            "rule": _id("rule", rule, 64),
            "policy_version": _id("policy_version", policy_version, 64),
            "purpose": _choice("purpose", purpose, PURPOSES),
            "reason": _reason(reason),
            "incident": _id("incident", incident, 64),
            "break_glass": bool(break_glass),
            "client": client,
            "request_id": _id("request_id", request_id, 64),
            "details": _details(_with_issuer(details, actor)),
        }
    )


def _with_issuer(
    details: Mapping[str, Any] | None, actor: Actor | None
) -> Mapping[str, Any] | None:
    """``details`` plus ``token_issued_by`` when the actor's token was minted by someone else.

    Done here, for every event, rather than at each call site: an admin who issues
    a token for another user and acts with it must never be logged as that user
    alone. The value is checked as an id like every other detail.
    """
    issuer = actor.issued_by if actor is not None else None
    if issuer is None:
        return details
    return {**(details or {}), "token_issued_by": issuer}


def _timestamp(value: datetime) -> str:
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def canonical_bytes(row: Sequence[Any]) -> bytes:
    """The bytes a leaf commits to: the row's values in :data:`CANONICAL_FIELDS` order.

    A JSON array (format version first) with the timestamp as ISO-8601 UTC in
    microseconds and ``details`` as its stored JSON text, so the same row always
    gives the same bytes on SQLite and PostgreSQL.
    """
    values = list(row)
    values[1] = _timestamp(values[1])
    return orjson.dumps([_FORMAT, *values])
