"""``/v1/admin``: agencies, users, tokens and the clusters export (role ``admin``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session

from api.hub.deps import (
    AuditContextDep,
    SessionDep,
    SettingsDep,
    get_engine,
    require_roles,
    services_of,
)
from api.hub.identity import service as identity
from api.hub.identity.service import Principal
from api.hub.linking.clusters import cluster_csv_chunks
from api.schemas.identity import (
    AgencyPublic,
    CjisPublic,
    TokenPublic,
    TokensRevokedPublic,
    UserPublic,
)
from policy.vocabulary import Role

__all__ = ["router"]

AdminUser = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
router = APIRouter(prefix="/v1/admin", tags=["admin"])


class AgencyCreate(BaseModel):
    """A new agency."""

    name: str = Field(max_length=64)


class UserCreate(BaseModel):
    """A new user with one role at one agency."""

    username: str = Field(max_length=64)
    role: str = Field(max_length=32)
    agency: str = Field(max_length=64)
    cjis_authorized: bool = False


class CjisState(BaseModel):
    """A user's CJIS authorisation."""

    authorized: bool


class TokenCreate(BaseModel):
    """Lifetime of a new token (days); the settings' default when omitted."""

    expires_in_days: float | None = Field(default=None, gt=0, le=3650)


@router.post("/agencies", status_code=201)
def create_agency(
    body: AgencyCreate,
    admin: AdminUser,
    session: SessionDep,
    request: Request,
    context: AuditContextDep,
) -> AgencyPublic:
    """Create an agency (and its wrapped context data key)."""
    agency = identity.create_agency(
        session, body.name, services_of(request).master_key, actor=admin, context=context
    )
    return AgencyPublic(name=agency.name)


@router.post("/users", status_code=201)
def create_user(
    body: UserCreate, admin: AdminUser, session: SessionDep, context: AuditContextDep
) -> UserPublic:
    """Create a user."""
    user = identity.create_user(
        session,
        body.username,
        body.role,
        body.agency,
        cjis_authorized=body.cjis_authorized,
        actor=admin,
        context=context,
    )
    return UserPublic(
        username=user.username,
        role=Role(user.role),
        agency=body.agency,
        cjis_authorized=user.cjis_authorized,
    )


@router.put("/users/{username}/cjis")
def set_cjis(
    request: Request,
    username: str,
    body: CjisState,
    admin: AdminUser,
    session: SessionDep,
    context: AuditContextDep,
) -> CjisPublic:
    """Grant or withdraw CJIS authorisation (every process within a token-cache poll)."""
    identity.set_cjis(session, username, body.authorized, actor=admin, context=context)
    session.commit()
    services_of(request).tokens.forget_all()
    return CjisPublic(username=username, cjis_authorized=body.authorized)


@router.post("/users/{username}/tokens", status_code=201)
def issue_token(
    username: str,
    admin: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    context: AuditContextDep,
    body: TokenCreate | None = None,
) -> TokenPublic:
    """Issue a token; the response is the only place it is ever shown."""
    days = (body.expires_in_days if body else None) or settings.token_default_days
    token = identity.issue_token(session, username, days, actor=admin, context=context)
    session.commit()  # no log, no token: the commit (event included) precedes the response
    return TokenPublic(username=username, token=token)


@router.delete("/users/{username}/tokens")
def revoke_tokens(
    request: Request,
    username: str,
    admin: AdminUser,
    session: SessionDep,
    context: AuditContextDep,
) -> TokensRevokedPublic:
    """Revoke all of a user's tokens (refused by this process at once, by others within a poll)."""
    revoked = identity.revoke_tokens(session, username, actor=admin, context=context)
    session.commit()
    services_of(request).tokens.forget_all()
    return TokensRevokedPublic(revoked=revoked)


@router.get(
    "/clusters",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`agency,record_id,subject_id,match_probability` rows, with a header",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def export_clusters(
    _admin: AdminUser, engine: Annotated[Engine, Depends(get_engine)]
) -> StreamingResponse:
    """Every stored record's subject, as CSV (the ``crosswalk link`` format)."""

    def chunks() -> Iterator[str]:
        with Session(engine) as session:
            yield from cluster_csv_chunks(session)

    return StreamingResponse(
        chunks(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="clusters.csv"'},
    )
