"""A refused request body is named, never echoed: no value comes back in a 422."""

from __future__ import annotations

from tests.api.hub import Hub

PLAINTEXT = "Maria Lopez born 1987-03-04 at 12 Elm Street"


def test_an_invalid_body_is_refused_naming_the_field_without_its_value(hub: Hub) -> None:
    hub.user("medic", "ems_medic", "ems")
    body = {"purpose": "emergency", "reason": PLAINTEXT * 20}  # over 500 characters

    response = hub.client.post(
        "/v1/subjects/S-0000000000000000/break-glass", json=body, headers=hub.auth("medic")
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "reason"]
    assert "Maria" not in response.text
    assert "Elm" not in response.text


def test_an_over_long_value_is_named_without_its_value(hub: Hub) -> None:
    hub.user("root", "admin", "county")
    body = {"username": "ssn-123-45-6789-" * 5, "role": "auditor", "agency": "county"}

    response = hub.client.post("/v1/admin/users", json=body, headers=hub.auth("root"))

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "username"]
    assert "123-45-6789" not in response.text
