"""``/v1/me``: who the bearer token belongs to (any role).

The agency gateway signs a responder in by asking this with the token they
gave it: it learns the user's role and agency without any privilege of its own,
and a refused token is refused here like anywhere else.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.hub.deps import CurrentUser
from api.schemas.me import MePublic

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["identity"])


@router.get("/me", response_model=MePublic)
async def me(user: CurrentUser) -> MePublic:
    """The caller's user name, role, agency and CJIS authorisation."""
    return MePublic(
        username=user.username,
        role=str(user.role),
        agency=user.agency,
        cjis_authorized=user.cjis_authorized,
    )
