"""What a subject view asks the database: few statements, and only the allowed cells.

A view is on every responder's path, so its statements are counted: members,
consents, (for an emergency) the break-glass grant, one read of the context
cells every disclosing agency allows, one INSERT of its events. The context read
names exactly the disclosed (record, category) cells: a withheld category's
ciphertext never leaves the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from linkage.encode.keys import LinkageSecret
from tests.api.hub import Hub
from tests.api.policy_setup import PolicyHub, build_policy_hub


@pytest.fixture
def ph(hub: Hub, secret: LinkageSecret, fixtures_dir: Path) -> PolicyHub:
    """The default policy and one subject with one record at each of four agencies."""
    return build_policy_hub(hub, secret, fixtures_dir)


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any, Any]]]:
    """Every statement sent through ``engine`` meanwhile: text, parameters, connection.

    Background threads (the policy poller, the audit sealer) share the engine;
    a view's own statements are those on the connection that wrote its events.
    """
    sent: list[tuple[str, Any, Any]] = []

    def collect(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((" ".join(statement.split()), parameters, conn))

    event.listen(engine, "before_cursor_execute", collect)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", collect)


def _values(parameters: Any) -> list[Any]:
    return list(parameters.values() if isinstance(parameters, dict) else parameters)


@pytest.mark.parametrize(
    ("user", "purpose", "budget"),
    [("officer", "public_safety", 4), ("clinician", "treatment", 4), ("medic", "emergency", 5)],
)
def test_a_view_reads_only_the_disclosed_cells_in_one_query(
    ph: PolicyHub, user: str, purpose: str, budget: int
) -> None:
    ph.view(user, purpose)  # the token is cached from now on
    with _statements(ph.hub.engine) as sent:
        view = ph.view(user, purpose)

    (conn,) = {c for s, _, c in sent if s.startswith("INSERT INTO audit_event")}
    mine = [(s, p) for s, p, c in sent if c is conn]
    reads = [p for s, p in mine if "FROM record_context" in s]
    assert len(reads) == 1
    named = sorted(v for v in _values(reads[0]) if isinstance(v, str))
    disclosed = sorted(c for a in view["agencies"] for c in a["categories"])
    assert disclosed
    assert named == disclosed  # one record per agency: one cell per disclosed category
    assert len(mine) <= budget


def test_a_view_disclosing_nothing_reads_no_context(ph: PolicyHub) -> None:
    ph.hub.user("outsider", "dispatcher", "elsewhere")  # an agency nobody shares with
    ph.view("outsider", "crisis_response")
    with _statements(ph.hub.engine) as sent:
        view = ph.view("outsider", "crisis_response")

    assert not [a for a in view["agencies"] if a["categories"]]
    assert not [s for s, _, _ in sent if "FROM record_context" in s]
