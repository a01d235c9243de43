"""What a responder asks the gateway, shared by its JSON API and its page.

:class:`GatewayServices` is what one gateway process holds; :func:`resolve_with_aids`
encodes a plaintext query here, resolves it at the hub with the user's own
token, and adds confirmation aids (:mod:`api.gateway.confirm`) for the first
few candidates; :class:`AnswerError` carries a hub answer (or a refusal of the
gateway's own) back to the caller as it is.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from api.gateway.confirm import confirmation_of
from api.gateway.hub_client import HubAnswer, HubClient
from api.gateway.local_store import LocalStore
from api.gateway.query import PersonQuery, QueryRefused, encode_query
from api.gateway.settings import GatewaySettings
from linkage.encode.encoding import RecordEncoder

__all__ = ["CONFIRM_CANDIDATES", "AnswerError", "GatewayServices", "passed", "resolve_with_aids"]

#: Candidates whose views are read for confirmation aids.
CONFIRM_CANDIDATES = 5


@dataclass
class GatewayServices:
    """What one gateway process holds."""

    settings: GatewaySettings
    hub: HubClient
    store: LocalStore
    encoder: RecordEncoder


class AnswerError(Exception):
    """Answer the request with this status and body (a hub answer passed through)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status, self.body = status, body


def passed(answer: HubAnswer) -> Any:
    if not answer.ok:
        raise AnswerError(answer.status, answer.body)
    return answer.body


async def resolve_with_aids(
    services: GatewayServices, token: str, query: PersonQuery, purpose: str | None
) -> dict[str, Any]:
    """The hub's candidates for ``query``, and confirmation aids for the first few."""
    try:
        encoded = encode_query(services.encoder, query)
    except QueryRefused as exc:
        raise AnswerError(422, {"detail": str(exc), "field": exc.field}) from exc
    body = passed(await services.hub.resolve(token, encoded))
    candidates = list(body.get("candidates", [])) if isinstance(body, dict) else []
    views: list[Any] = [None] * len(candidates)
    if purpose is not None:
        first = candidates[:CONFIRM_CANDIDATES]
        answers = await asyncio.gather(
            *(services.hub.subject(token, str(c.get("subject_id")), purpose) for c in first)
        )
        views[: len(first)] = [a.body if a.ok else None for a in answers]
    aids = [confirmation_of(c, v, services.store) for c, v in zip(candidates, views, strict=True)]
    return {**body, "confirmation": aids}
