"""Agencies, users and bearer tokens.

Used by both the ``/v1/admin`` routes and ``crosswalk admin``, so the CLI and the
API enforce the same rules: names are short lowercase slugs, a user has one role
from :class:`policy.vocabulary.Role` and one agency, and a token is shown once and stored
only as its hash (:mod:`api.hub.identity.tokens`). Authentication accepts only an existing,
unexpired, unrevoked token of an existing user. Every change writes its audit
event in the same transaction (``actor`` and ``context`` say who and from where;
the CLI passes :data:`api.hub.audit.CLI_CONTEXT`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from api.db import as_utc, utcnow
from api.errors import AuthenticationError, Conflict, InvalidRequest, NotFound
from api.hub.audit import EventKind, RequestContext, record
from api.hub.context_crypto import new_wrapped_data_key
from api.hub.identity.tables import Agency, ApiToken, IdentityState, User
from api.hub.identity.tokens import hash_token, new_token
from policy.vocabulary import AGENCY_NAME, Role

__all__ = [
    "Principal",
    "authenticate",
    "authenticate_digest",
    "create_agency",
    "create_user",
    "get_agency",
    "issue_token",
    "revoke_tokens",
    "set_cjis",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of a request."""

    user_id: int
    username: str
    role: Role
    agency: str
    cjis_authorized: bool = False
    #: The token's issuer when it was minted for this user by someone else (an
    #: admin's username, or ``cli``); audit events of the request record it.
    issued_by: str | None = None


def _check_name(kind: str, name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidRequest(f"{kind} name must be 1-64 lowercase letters, digits, '.', '_' or '-'")
    return name


def _check_agency_name(name: str) -> str:
    """The one agency-name rule (:data:`policy.vocabulary.AGENCY_NAME`): an agency
    that no policy rule or consent could name is refused at creation."""
    if not AGENCY_NAME.fullmatch(name):
        raise InvalidRequest(
            "agency name must start with a lowercase letter, then up to 62 lowercase "
            "letters, digits, '_' or '-'"
        )
    return name


def create_agency(
    session: Session,
    name: str,
    master_key: bytes,
    *,
    actor: Principal | None = None,
    context: RequestContext | None = None,
) -> Agency:
    """Create an agency with a fresh context data key wrapped by ``master_key``."""
    _check_agency_name(name)
    if session.exec(select(Agency).where(Agency.name == name)).first():
        raise Conflict(f"agency {name!r} already exists")
    agency = Agency(name=name, wrapped_data_key=new_wrapped_data_key(master_key, name))
    session.add(agency)
    session.flush()
    record(session, EventKind.AGENCY_CREATE, actor=actor, context=context, agency=name)
    return agency


def get_agency(session: Session, name: str) -> Agency:
    """The agency called ``name``."""
    agency = session.exec(select(Agency).where(Agency.name == name)).first()
    if agency is None:
        raise NotFound(f"no agency {name!r}")
    return agency


def create_user(
    session: Session,
    username: str,
    role: str,
    agency: str,
    *,
    cjis_authorized: bool = False,
    actor: Principal | None = None,
    context: RequestContext | None = None,
) -> User:
    """Create a user with one role at one agency (and CJIS authorisation, if vetted)."""
    _check_name("user", username)
    try:
        parsed = Role(role)
    except ValueError as exc:
        raise InvalidRequest(
            f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}"
        ) from exc
    owner = get_agency(session, agency)
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"user {username!r} already exists")
    assert owner.id is not None  # noqa: S101 - flushed rows have ids
    user = User(
        username=username, role=parsed.value, agency_id=owner.id, cjis_authorized=cjis_authorized
    )
    session.add(user)
    session.flush()
    record(
        session,
        EventKind.USER_CREATE,
        actor=actor,
        context=context,
        agency=agency,
        details={
            "user": username,
            "user_id": user.id,
            "role": parsed.value,
            "cjis_authorized": cjis_authorized,
        },
    )
    return user


def set_cjis(
    session: Session,
    username: str,
    authorized: bool,
    *,
    actor: Principal | None = None,
    context: RequestContext | None = None,
) -> None:
    """Grant or withdraw a user's CJIS authorisation (effective like a revocation)."""
    user = _user(session, username)
    user.cjis_authorized = authorized
    session.add(user)
    session.flush()
    _tokens_changed(session)
    record(
        session,
        EventKind.USER_CJIS,
        actor=actor,
        context=context,
        details={"user": username, "user_id": user.id, "cjis_authorized": authorized},
    )


def _tokens_changed(session: Session) -> None:
    """Bump the version every server process polls to forget the principals it cached."""
    session.connection().execute(
        update(IdentityState)
        .where(IdentityState.id == 1)  # type: ignore[arg-type]
        .values(version=IdentityState.version + 1)
    )


def _user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def issue_token(
    session: Session,
    username: str,
    expires_in_days: float,
    *,
    actor: Principal | None = None,
    context: RequestContext | None = None,
    issued_by: str | None = None,
) -> str:
    """A new token for ``username``; only its hash is stored (the event names its row id).

    The token is marked with who minted it when that is not ``username``
    themselves: ``issued_by`` if given (the CLI passes ``cli``), else an
    ``actor`` other than the user. Acts done with it are then audited as
    issued by them (:attr:`Principal.issued_by`).
    """
    if not 0 < expires_in_days <= 3650:
        raise InvalidRequest("expires-in must be between 0 and 3650 days")
    user = _user(session, username)
    assert user.id is not None  # noqa: S101
    if issued_by is None and actor is not None and actor.user_id != user.id:
        issued_by = actor.username
    token = new_token()
    expires = utcnow() + timedelta(days=expires_in_days)
    row = ApiToken(
        user_id=user.id, token_hash=hash_token(token), expires_at=expires, issued_by=issued_by
    )
    session.add(row)
    session.flush()
    record(
        session,
        EventKind.TOKEN_ISSUE,
        actor=actor,
        context=context,
        details={"user": username, "user_id": user.id, "token_id": row.id, "days": expires_in_days},
    )
    return token


def revoke_tokens(
    session: Session,
    username: str,
    *,
    actor: Principal | None = None,
    context: RequestContext | None = None,
) -> int:
    """Revoke every live token of ``username``; returns how many."""
    user = _user(session, username)
    live = session.exec(
        select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
    ).all()
    now = utcnow()
    for token in live:
        token.revoked_at = now
        session.add(token)
    session.flush()
    _tokens_changed(session)
    record(
        session,
        EventKind.TOKEN_REVOKE,
        actor=actor,
        context=context,
        details={"user": username, "user_id": user.id, "revoked": len(live)},
    )
    return len(live)


def authenticate(session: Session, token: str) -> Principal:
    """The principal behind ``token``.

    Raises:
        AuthenticationError: unknown, expired or revoked token (one message for
            all three, so a caller learns nothing about which).
    """
    return authenticate_digest(session, hash_token(token))[0]


def authenticate_digest(session: Session, digest: str) -> tuple[Principal, datetime]:
    """The principal behind the token whose SHA-256 is ``digest``, and when it expires.

    Raises:
        AuthenticationError: as :func:`authenticate`.
    """
    # Plain columns, not three ORM entities: this runs on every uncached request.
    row = session.connection().execute(_AUTH, {"digest": digest}).first()
    if row is None:
        raise AuthenticationError("invalid or expired token")
    revoked_at, expires_at, issued_by, user_id, username, role, cjis, agency = row
    expires_at = as_utc(expires_at)
    if revoked_at is not None or expires_at <= utcnow():
        raise AuthenticationError("invalid or expired token")
    return Principal(user_id, username, Role(role), agency, bool(cjis), issued_by), expires_at


_TOKEN = ApiToken.__table__  # type: ignore[attr-defined]
_USER = User.__table__  # type: ignore[attr-defined]
_AGENCY = Agency.__table__  # type: ignore[attr-defined]
_AUTH = (
    sa_select(
        _TOKEN.c.revoked_at,
        _TOKEN.c.expires_at,
        _TOKEN.c.issued_by,
        _USER.c.id,
        _USER.c.username,
        _USER.c.role,
        _USER.c.cjis_authorized,
        _AGENCY.c.name,
    )
    .join(_USER, _USER.c.id == _TOKEN.c.user_id)
    .join(_AGENCY, _AGENCY.c.id == _USER.c.agency_id)
    .where(_TOKEN.c.token_hash == bindparam("digest"))
)
