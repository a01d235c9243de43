"""Consent times through HTTP: offsets survive storage; the hub's receipt order decides (#11).

SQLite keeps no offset: a period end of ``10:00+05:00`` was stored as 10:00
UTC, so a consent that had ended kept granting for five hours. Every incoming
time is now converted to UTC before it is stored. And "the subject's last
word" was the consent with the latest *client-supplied* ``lastUpdated``, so a
future date outranked every later refusal; now it is the one the hub received
last, whatever the client's clock says.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from linkage.encode.keys import LinkageSecret
from tests.api.consent_docs import HOUSING, bundle, fhir_consent
from tests.api.hub import Hub
from tests.api.policy_setup import PolicyHub, build_policy_hub, disclosed, withheld

OWNER = "homeless_services"
PLUS_5 = timezone(timedelta(hours=5))
MINUS_5 = timezone(timedelta(hours=-5))
HOUR = timedelta(hours=1)


@pytest.fixture
def ph(hub: Hub, secret: LinkageSecret, fixtures_dir: Path) -> PolicyHub:
    """The default policy and one subject at four agencies."""
    return build_policy_hub(hub, secret, fixtures_dir)


def _housing_reason(ph: PolicyHub) -> str | None:
    """Why the shelter's housing data is withheld from the clinician (``None``: disclosed)."""
    view = ph.view("clinician", "crisis_response")
    if "housing" in disclosed(view).get(OWNER, set()):
        return None
    return withheld(view, OWNER)["housing"]


def _steward(ph: PolicyHub) -> dict[str, str]:
    return ph.hub.auth(f"st-{OWNER}")


def _own_shape(ph: PolicyHub, consent_id: str, start: datetime, end: datetime) -> httpx.Response:
    period = {"period_start": start.isoformat(), "period_end": end.isoformat()}
    body = {"consent_id": consent_id, "record_id": ph.record_ids[OWNER], "grantor": "subject"}
    body |= {**period, **HOUSING}
    return ph.hub.client.post("/v1/consents", json=body, headers=_steward(ph))


def _fhir(ph: PolicyHub, consent_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    resource = fhir_consent(OWNER, ph.record_ids[OWNER], consent_id)
    resource["provision"]["period"] = {"start": start.isoformat(), "end": end.isoformat()}
    return resource


def _fhir_create(ph: PolicyHub, consent_id: str, start: datetime, end: datetime) -> httpx.Response:
    resource = _fhir(ph, consent_id, start, end)
    return ph.hub.client.post("/v1/consents", json=resource, headers=_steward(ph))


def _fhir_import(ph: PolicyHub, consent_id: str, start: datetime, end: datetime) -> httpx.Response:
    resource = bundle(_fhir(ph, consent_id, start, end))
    return ph.hub.client.post("/v1/consents/import", json=resource, headers=_steward(ph))


Write = Callable[[PolicyHub, str, datetime, datetime], httpx.Response]
WRITES: dict[str, Write] = {
    "own_shape": _own_shape,
    "fhir_create": _fhir_create,
    "fhir_import": _fhir_import,
}
#: name -> (period start, period end, reason the housing data is withheld or None), from now
PERIODS: dict[str, tuple[Callable[[datetime], datetime], Callable[[datetime], datetime], Any]] = {
    "ended_an_hour_ago_written_at_plus_5": (
        lambda now: (now - 48 * HOUR).astimezone(MINUS_5),
        lambda now: (now - HOUR).astimezone(PLUS_5),
        "consent_expired",
    ),
    "started_an_hour_ago_written_at_plus_5": (
        lambda now: (now - HOUR).astimezone(PLUS_5),
        lambda now: (now + 24 * HOUR).astimezone(MINUS_5),
        None,
    ),
}


@pytest.mark.parametrize("period", sorted(PERIODS))
@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_period_written_with_an_offset_is_kept_as_the_same_instant(
    ph: PolicyHub, write: str, period: str
) -> None:
    now = datetime.now(UTC)
    start_at, end_at, reason = PERIODS[period]
    start, end = start_at(now), end_at(now)

    response = WRITES[write](ph, "timed-1", start, end)

    assert response.status_code == 201, response.text
    assert _housing_reason(ph) == reason
    stored = ph.hub.client.get("/v1/consents?consent_id=timed-1", headers=_steward(ph))
    [consent] = stored.json()["consents"]
    for name, given in (("period_start", start), ("period_end", end)):
        moment = datetime.fromisoformat(consent[name])
        assert (moment, moment.utcoffset()) == (given, timedelta(0)), name


def _import_with_last_updated(ph: PolicyHub, consent_id: str, last_updated: datetime) -> Any:
    resource = fhir_consent(OWNER, ph.record_ids[OWNER], consent_id, last_updated=last_updated)
    response = ph.hub.client.post(
        "/v1/consents/import", json=bundle(resource), headers=_steward(ph)
    )
    assert response.status_code == 201, response.text
    return response.json()["consents"][0]


def test_a_future_last_updated_does_not_outrank_a_later_refusal(ph: PolicyHub) -> None:
    before = datetime.now(UTC)
    imported = _import_with_last_updated(ph, "future-1", before + timedelta(days=365))
    assert _housing_reason(ph) is None

    ph.consent(OWNER, consent_id="refusal-1", status="rejected", **HOUSING)

    assert _housing_reason(ph) == "consent_revoked"
    assert before <= datetime.fromisoformat(imported["recorded"]) <= datetime.now(UTC)


def test_a_backdated_consent_received_after_a_refusal_is_the_last_word(ph: PolicyHub) -> None:
    ph.consent(OWNER, consent_id="refusal-1", status="rejected", **HOUSING)
    assert _housing_reason(ph) == "consent_revoked"

    _import_with_last_updated(ph, "backdated-1", datetime(2001, 1, 1, tzinfo=UTC))

    assert _housing_reason(ph) is None


def test_a_revocation_is_recorded_at_the_hubs_time_in_utc(ph: PolicyHub) -> None:
    _import_with_last_updated(ph, "future-1", datetime.now(UTC) + timedelta(days=365))

    revoked = ph.hub.client.post("/v1/consents/future-1/revoke", headers=_steward(ph))

    assert revoked.status_code == 201, revoked.text
    recorded = datetime.fromisoformat(revoked.json()["recorded"])
    assert recorded.utcoffset() == timedelta(0)
    assert recorded <= datetime.now(UTC)
    assert _housing_reason(ph) == "consent_revoked"
