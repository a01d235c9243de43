"""The active Fellegi–Sunter model of the hub, stored as JSON in ``linkage_model``.

A model is trained by a re-link run (or by ``crosswalk link`` at an agency-side
test bench and imported with ``crosswalk admin import-model``). Activating one
bumps ``link_state.seq`` so that every server process reloads it.
"""

from __future__ import annotations

import orjson
from sqlmodel import Session, col, select, update

from api.errors import InvalidRequest
from api.hub.linking.tables import LinkageModelRow, LinkState
from linkage.errors import ModelError
from linkage.match.model import FellegiSunterModel

__all__ = ["activate_model", "active_model", "import_model", "lock_link_state"]


def lock_link_state(session: Session) -> LinkState:
    """Bump ``seq`` first thing in the transaction, taking the linking lock.

    On PostgreSQL the row lock is held until commit, serialising every writer of
    linkage state across processes; on SQLite the write takes the database lock.
    """
    session.exec(update(LinkState).where(col(LinkState.id) == 1).values(seq=LinkState.seq + 1))
    state = session.get(LinkState, 1, populate_existing=True)
    assert state is not None  # noqa: S101 - created by the first migration
    return state


def import_model(session: Session, model: FellegiSunterModel) -> LinkageModelRow:
    """Store ``model`` and make it the active one (taking the linking lock)."""
    return activate_model(session, lock_link_state(session), model)


def activate_model(
    session: Session, state: LinkState, model: FellegiSunterModel
) -> LinkageModelRow:
    """Store ``model`` as the active one; the caller holds the linking lock (``state``)."""
    if state.key_id is not None and state.key_id != model.key_id:
        raise InvalidRequest("the model was trained on encodings of another linkage key")
    session.exec(update(LinkageModelRow).values(active=False))
    row = LinkageModelRow(
        schema_version=model.schema_version,
        key_id=model.key_id,
        body=orjson.dumps(model.to_dict()).decode(),
        active=True,
    )
    session.add(row)
    session.flush()
    state.model_id = row.id
    state.key_id = model.key_id
    session.add(state)
    session.flush()
    return row


def active_model(session: Session) -> tuple[int, FellegiSunterModel] | None:
    """The active model and its row id, if any."""
    row = session.exec(select(LinkageModelRow).where(col(LinkageModelRow.active))).first()
    if row is None or row.id is None:
        return None
    try:
        return row.id, FellegiSunterModel.from_dict(orjson.loads(row.body))
    except (ModelError, orjson.JSONDecodeError) as exc:
        raise ModelError("the stored linkage model is unreadable") from exc
