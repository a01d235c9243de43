"""Odd consent documents are a 422 naming the field, never a 500 (issue #11).

Each of these once reached the database or a ``datetime`` operation unchecked:
a ``versionId`` beyond the column (PostgreSQL and SQLite raise), a Bundle whose
``entry`` is not a list of objects, a date in year 0 or one that leaves the
calendar when converted to UTC, and a grantor longer than its 200-character
column (PostgreSQL raises) or with a NUL (which PostgreSQL cannot store).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.consent_docs import HOUSING, bundle, fhir_consent
from tests.api.hub import Hub

AGENCY = "homeless_services"
STEWARD = "st-homeless_services"


@pytest.fixture
def steward(hub: Hub) -> Hub:
    """A hub with one data steward (no records are needed to write consents)."""
    hub.user(STEWARD, "data_steward", AGENCY)
    return hub


def _post(hub: Hub, path: str, body: object) -> httpx.Response:
    return hub.client.post(path, json=body, headers=hub.auth(STEWARD))


def _assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json().get("field", response.json()["detail"]).startswith(field)


def _nothing_stored(hub: Hub) -> bool:
    exported = hub.client.get("/v1/consents/export", headers=hub.auth(STEWARD)).json()
    return exported["total"] == 0


@pytest.mark.parametrize(
    "version_id",
    ["abc", "", "-1", "0", "+1", " 1", "1.5", "1e3", "\u00b2", "\u0661", str(2**31), str(2**63),
     str(2**63 + 1), str(2**64), "9" * 400, 7, None],
)  # fmt: skip
def test_an_odd_version_id_is_a_422(steward: Hub, version_id: Any) -> None:
    resource = fhir_consent(AGENCY, "HS-1", "odd-version")
    resource["meta"]["versionId"] = version_id

    _assert_refused(_post(steward, "/v1/consents", resource), "meta.versionId")
    _assert_refused(_post(steward, "/v1/consents/import", bundle(resource)), "entry[0].meta")
    assert _nothing_stored(steward)


def test_the_highest_version_leaves_room_for_a_revocation(steward: Hub) -> None:
    highest = fhir_consent(AGENCY, "HS-1", "last-version", version=2**31 - 2)

    assert _post(steward, "/v1/consents/import", highest).status_code == 201
    revoked = steward.client.post("/v1/consents/last-version/revoke", headers=steward.auth(STEWARD))
    assert revoked.status_code == 201, revoked.text
    assert revoked.json()["version"] == 2**31 - 1


@pytest.mark.parametrize(
    "entry",
    [{"resource": {}}, "Consent", 7, [1], [None], ["Consent"], [{}], [{"resource": None}],
     [{"resource": []}], [{"resource": "Consent"}], [{"resource": {"resourceType": "Patient"}}],
     [{"resource": {"resourceType": "Bundle", "entry": []}}]],
)  # fmt: skip
def test_a_malformed_bundle_is_a_422(steward: Hub, entry: Any) -> None:
    body = {"resourceType": "Bundle", "type": "collection", "entry": entry}

    response = _post(steward, "/v1/consents/import", body)

    _assert_refused(response, "entry")
    assert _nothing_stored(steward)


def test_a_bundle_with_one_bad_entry_stores_nothing(steward: Hub) -> None:
    good = fhir_consent(AGENCY, "HS-1", "good-1")
    body = {**bundle(good), "entry": [{"resource": good}, {"resource": 5}]}

    _assert_refused(_post(steward, "/v1/consents/import", body), "entry[1]")
    assert _nothing_stored(steward)


BAD_INSTANTS = [
    "0000-01-01",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",  # year 0 in UTC
    "9999-12-31T23:00:00-05:00",  # year 10000 in UTC
    "10000-01-01T00:00:00Z",
    "1899-12-31T23:59:59Z",
    "2025-02-30T00:00:00Z",
    "2025-01-01T24:30:00Z",
    "2025-01-01T00:00:00+24:00",
]


def _own_shape(**times: str) -> dict[str, Any]:
    return {"record_id": "HS-1", "grantor": "subject", **HOUSING, **times}


def _fhir_with(place: str, value: str) -> dict[str, Any]:
    resource = fhir_consent(AGENCY, "HS-1", "dated-1")
    if place == "meta.lastUpdated":
        resource["meta"]["lastUpdated"] = value
    else:
        resource["provision"]["period"] = {place.rpartition(".")[2]: value}
    return resource


@pytest.mark.parametrize("value", BAD_INSTANTS)
def test_a_date_out_of_the_calendar_is_a_422_wherever_it_is(steward: Hub, value: str) -> None:
    for field in ("period_start", "period_end"):
        _assert_refused(_post(steward, "/v1/consents", _own_shape(**{field: value})), field)
    for place in ("provision.period.start", "provision.period.end", "meta.lastUpdated"):
        resource = _fhir_with(place, value)
        _assert_refused(_post(steward, "/v1/consents", resource), place)
        _assert_refused(_post(steward, "/v1/consents/import", resource), f"entry[0].{place}")
    assert _nothing_stored(steward)


def test_the_calendars_ends_are_accepted(steward: Hub) -> None:
    body = _own_shape(period_start="1900-01-01T00:00:00Z", period_end="9999-12-31T00:00:00Z")

    response = _post(steward, "/v1/consents", body)

    assert response.status_code == 201, response.text
    assert response.json()["period_end"] == "9999-12-31T00:00:00+00:00"


@pytest.mark.parametrize(
    ("grantor", "status"),
    [("g" * 200, 201), ("\u00e9" * 200, 201), ("g" * 201, 422), ("\u00e9" * 201, 422),
     ("g" * 5000, 422), ("sub\x00ject", 422), ("sub\x1bject", 422), ("   ", 422)],
)  # fmt: skip
def test_a_grantor_must_fit_its_column(steward: Hub, grantor: str, status: int) -> None:
    own = _own_shape(grantor=grantor, consent_id="own-1")
    fhir = fhir_consent(AGENCY, "HS-1", "fhir-1")
    fhir["performer"] = [{"display": grantor}]

    for response in (_post(steward, "/v1/consents", own), _post(steward, "/v1/consents", fhir)):
        assert response.status_code == status, response.text
        if status == 422:
            assert grantor.strip() not in response.text or not grantor.strip()
            field = response.json().get("field", response.json()["detail"])
            assert field.startswith(("grantor", "performer[0].display")), field


@pytest.mark.parametrize(
    "recipient", [{"agency": 5}, {"agency": {"name": "ems"}}, {"role": ["bh_clinician"]}, "ems", 7]
)
def test_a_recipient_that_is_not_text_is_a_422(steward: Hub, recipient: Any) -> None:
    body = {**_own_shape(), "recipients": [recipient]}

    _assert_refused(_post(steward, "/v1/consents", body), "recipients")
    assert _nothing_stored(steward)
