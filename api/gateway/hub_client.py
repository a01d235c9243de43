"""The gateway's client of the hub: the user's own token, the hub's answers unchanged.

The gateway has no privilege at the hub: each call carries the signed-in user's
bearer token, so the hub's role gates, policy and audit apply to that user. An
answer from the hub — 2xx or 4xx — is passed back as the hub gave it
(:class:`HubAnswer`). A hub that cannot be reached, or does not answer within
the timeout, raises :class:`HubUnavailable` (the gateway says 503); so does a
hub 5xx or 503, whose body is not passed on (it is the hub's, not the user's,
problem to read). Nothing here logs a request body or a header value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

__all__ = ["HubAnswer", "HubClient", "HubUnavailable"]

log = logging.getLogger(__name__)


class HubUnavailable(Exception):
    """The hub did not answer (down, unreachable, too slow, or failing)."""


@dataclass(frozen=True, slots=True)
class HubAnswer:
    """What the hub said: status code and parsed JSON body."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status < 300


class HubClient:
    """Async calls to one hub (one connection pool per gateway process).

    Args:
        base_url: The hub's base URL.
        timeout: Seconds a call may take.
        transport: An httpx transport (tests pass one; production uses the network).
    """

    def __init__(
        self, base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def resolve(self, token: str, encoded: bytes) -> HubAnswer:
        """``POST /v1/subjects/resolve`` with one encoded record."""
        return await self._call(
            "POST", "/v1/subjects/resolve", token, content=encoded,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip

    async def subject(self, token: str, subject_id: str, purpose: str) -> HubAnswer:
        """``GET /v1/subjects/{id}?purpose=…``: the policy-filtered view."""
        path = f"/v1/subjects/{quote(subject_id, safe='')}"
        return await self._call("GET", path, token, params={"purpose": purpose})

    async def break_glass(self, token: str, subject_id: str, body: dict[str, Any]) -> HubAnswer:
        """``POST /v1/subjects/{id}/break-glass``."""
        path = f"/v1/subjects/{quote(subject_id, safe='')}/break-glass"
        return await self._call("POST", path, token, json=body)

    async def whoami(self, token: str) -> HubAnswer:
        """``GET /v1/me``: who the token belongs to (user, role, agency)."""
        return await self._call("GET", "/v1/me", token)

    async def _call(self, method: str, path: str, token: str, **kwargs: Any) -> HubAnswer:
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {token}"}
        try:
            response = await self._client.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            log.warning("hub call %s %s timed out", method, path.split("?")[0])
            raise HubUnavailable("the hub did not answer in time") from exc
        except httpx.TransportError as exc:
            log.warning("hub call %s failed (%s)", method, type(exc).__name__)
            raise HubUnavailable("the hub cannot be reached") from exc
        if response.status_code >= 500:
            log.warning(
                "hub answered %s %s with %d", method, path.split("?")[0], response.status_code
            )
            raise HubUnavailable(f"the hub answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = {"detail": "the hub's answer was not JSON"}
        return HubAnswer(response.status_code, body)
