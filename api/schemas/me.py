"""``GET /v1/me``: who a token belongs to."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["MePublic"]


class MePublic(BaseModel):
    """The caller, as the hub knows them (no secret, no identifier of a person)."""

    username: str = Field(description="The user's name at the hub.")
    role: str = Field(description="The user's one role (policy.vocabulary.Role).")
    agency: str = Field(description="The user's agency.")
    cjis_authorized: bool = Field(description="Vetted for criminal justice information.")
