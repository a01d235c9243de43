"""A break-glass reason may not carry a name or a street address (issue #11, finding 13c).

Digits shaped like an SSN, a date or a phone number were already refused; a
person's name or address is as identifying, and the reason is stored forever.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from api.hub.audit.events import AuditFieldError, build_event
from api.privacy import looks_like_name_or_address
from linkage.encode.keys import LinkageSecret
from tests.api.hub import Hub
from tests.api.policy_setup import PolicyHub, build_policy_hub

REFUSED = [
    ("a_full_name", "patient John Smith is unresponsive"),
    ("a_name_with_an_initial", "J. Smith collapsed"),
    ("a_hyphenated_name", "Mary-Ann O'Neil reported missing"),
    ("a_street_address", "found at 12 Elm Street"),
    ("an_abbreviated_street", "caller at 4b Main St. again"),
    ("an_avenue_with_two_words", "1600 Pennsylvania Avenue"),
]
ACCEPTED = [
    ("plain_words", "unresponsive patient, crisis history suspected"),
    ("one_capital_at_the_start", "Follow-up visit requested by the crisis team"),
    ("acronyms", "EMS call, patient unconscious"),
    ("two_sentences", "Unresponsive. Patient fell"),
    ("a_small_count", "seen 3 times this week"),
]


@pytest.mark.parametrize("reason", [r for _, r in REFUSED], ids=[n for n, _ in REFUSED])
def test_name_or_address_shaped_reasons_are_refused(reason: str) -> None:
    assert looks_like_name_or_address(reason)
    with pytest.raises(AuditFieldError, match="names or addresses"):
        build_event("subject.break_glass", reason=reason)


@pytest.mark.parametrize("reason", [r for _, r in ACCEPTED], ids=[n for n, _ in ACCEPTED])
def test_plain_reasons_are_accepted(reason: str) -> None:
    assert not looks_like_name_or_address(reason)
    assert build_event("subject.break_glass", reason=reason).values["reason"] == reason


@pytest.fixture
def ph(hub: Hub, secret: LinkageSecret, fixtures_dir: Path) -> PolicyHub:
    """The default policy and one subject at four agencies."""
    return build_policy_hub(hub, secret, fixtures_dir)


def test_a_break_glass_naming_someone_is_a_422_and_grants_nothing(ph: PolicyHub) -> None:
    refused = ph.hub.client.post(
        f"/v1/subjects/{ph.subject_id}/break-glass",
        json={"purpose": "emergency", "reason": "John Smith at 12 Elm Street is unresponsive"},
        headers=ph.hub.auth("medic"),
    )

    assert refused.status_code == 422, refused.text
    assert "names or addresses" in refused.text
    assert "Smith" not in refused.text
    assert "Elm" not in refused.text
    with ph.hub.engine.connect() as connection:
        grants = connection.execute(text("SELECT count(*) FROM break_glass_grant")).scalar_one()
        logged = connection.execute(
            text("SELECT count(*) FROM audit_event WHERE reason LIKE '%Smith%'")
        ).scalar_one()
    assert (grants, logged) == (0, 0)
