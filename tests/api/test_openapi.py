"""Every ``/v1`` operation documents its 2xx bodies in ``/openapi.json``.

A body is documented when its schema is a ``$ref`` to a model with
properties, an object with properties, an array of documented items, a
primitive (a streamed CSV is ``type: string``), or a union of documented
schemas. An untyped dict (``type: object`` with nothing but
``additionalProperties``, what a route annotated ``dict[str, Any]`` gets) and
an empty schema (a route returning ``Any``) are not documentation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from api.hub.app import create_app
from api.schemas.consents import ConsentBundlePublic, FhirConsentPublic
from policy.consent import Consent, Recipient
from policy.consent_fhir import to_fhir
from tests.api.hub import make_settings, served_routes

SPEC: dict[str, Any] = create_app(make_settings("sqlite://"), migrate=False).openapi()
OPERATIONS = [
    (method.upper(), path)
    for path, operations in SPEC["paths"].items()
    if path.startswith("/v1/")
    for method in operations
]
_PRIMITIVES = {"string", "integer", "number", "boolean"}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, or the component its ``$ref`` names."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.removeprefix("#/components/schemas/")
    found: dict[str, Any] = SPEC["components"]["schemas"][name]
    return found


def documented(schema: dict[str, Any]) -> bool:
    """Whether ``schema`` says what the body holds (see the module docstring)."""
    schema = _resolve(schema)
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return bool(schema[union]) and all(documented(s) for s in schema[union])
    kind = schema.get("type")
    if kind == "array":
        return documented(schema.get("items", {}))
    if kind == "object" or "properties" in schema:
        return bool(schema.get("properties"))
    return kind in _PRIMITIVES


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({}, False),
        ({"title": "Response Create"}, False),
        ({"type": "object", "additionalProperties": True}, False),
        ({"type": "object", "additionalProperties": {"type": "string"}}, False),
        ({"type": "array", "items": {}}, False),
        ({"anyOf": [{"$ref": "#/components/schemas/ConsentPublic"}, {}]}, False),
        ({"type": "string"}, True),
        ({"type": "array", "items": {"type": "string"}}, True),
        ({"type": "object", "properties": {"n": {"type": "integer"}}}, True),
        ({"$ref": "#/components/schemas/ConsentPublic"}, True),
    ],
)
def test_documented_tells_a_schema_from_an_untyped_body(
    schema: dict[str, Any], expected: bool
) -> None:
    assert documented(schema) is expected


def test_every_served_v1_operation_is_in_the_schema() -> None:
    served = {(method, path) for method, path in served_routes() if path.startswith("/v1/")}

    assert set(OPERATIONS) == served  # none hidden with include_in_schema=False
    assert len(OPERATIONS) > 30  # the parametrised test below is not vacuous


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_2xx_response_of_a_v1_operation_documents_its_body(method: str, path: str) -> None:
    responses = SPEC["paths"][path][method.lower()]["responses"]
    successes = {code: r for code, r in responses.items() if code.startswith("2")}
    assert successes, f"{method} {path} declares no 2xx response"
    for code, response in successes.items():
        content = response.get("content", {})
        assert content, f"{method} {path} {code}: no content"
        for media, body in content.items():
            schema = body.get("schema", {})
            assert documented(schema), f"{method} {path} {code} {media}: undocumented {schema}"


def test_a_fhir_consent_round_trips_through_its_public_model() -> None:
    """The typed FHIR model neither drops nor adds a top-level element of ``to_fhir``."""
    consent = Consent(
        consent_id="c-1",
        version=1,
        status="active",
        owner="county_bh",
        record_id="r-1",
        grantor="the subject",
        recipients=(Recipient(agency="police", role=None),),
        categories=frozenset({"housing"}),
        purposes=frozenset({"treatment"}),
        period_start=None,
        period_end=None,
        recorded=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    resource = to_fhir(consent)

    assert FhirConsentPublic.model_validate(resource).model_dump() == resource
    assert set(FhirConsentPublic.model_fields) == set(resource)
    bundle = ConsentBundlePublic.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "total": 1,
            "entry": [{"resource": resource}],
        }
    )
    assert bundle.model_dump()["entry"][0]["resource"] == resource
