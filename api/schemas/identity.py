"""``/v1/admin`` responses: the agency, user and token an administrator just changed."""

from __future__ import annotations

from pydantic import BaseModel, Field

from policy.vocabulary import Role

__all__ = ["AgencyPublic", "CjisPublic", "TokenPublic", "TokensRevokedPublic", "UserPublic"]


class AgencyPublic(BaseModel):
    """A newly created agency."""

    name: str = Field(
        description="The agency's name (a lowercase slug), as rules and consents name it."
    )


class UserPublic(BaseModel):
    """A newly created user: one role at one agency."""

    username: str = Field(description="The user's login name (a lowercase slug).")
    role: Role = Field(description="The user's one role.")
    agency: str = Field(description="The agency the user belongs to.")
    cjis_authorized: bool = Field(description="Whether the user is vetted for CJIS data.")


class CjisPublic(BaseModel):
    """A user's CJIS authorisation after the change."""

    username: str = Field(description="The user whose authorisation changed.")
    cjis_authorized: bool = Field(description="Whether the user is now vetted for CJIS data.")


class TokenPublic(BaseModel):
    """A newly issued bearer token: this response is the only place it is ever shown."""

    username: str = Field(description="The user the token authenticates.")
    token: str = Field(description="The bearer token itself; the hub keeps only its hash.")


class TokensRevokedPublic(BaseModel):
    """The outcome of revoking every live token of a user."""

    revoked: int = Field(description="How many live tokens were revoked (0 if none were live).")
