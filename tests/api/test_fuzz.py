"""Schemathesis against the hub's own OpenAPI document, in process: no 5xx, responses as declared.

The schema is read from ``/openapi.json`` of a running test hub (SQLite) through
the ASGI app, not the network, and every operation is called with generated
input under the tokens of several roles, so that both the refusals and the
routes behind them are exercised. Bounded and derandomised: a fixed number of
examples per operation, the same ones every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.hub import Hub, make_settings, open_hub

ROLES = ("admin", "police_officer", "data_steward", "auditor", "privacy_officer")


@pytest.fixture(scope="module")
def fuzz_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One hub for the whole run, with a user of each role."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'hub.db'}"
    for hub in open_hub(make_settings(url)):
        for role in ROLES:
            hub.user(f"fuzz-{role}", role, "county")
        yield hub


@pytest.fixture(scope="module")
def api_schema(fuzz_hub: Hub) -> Any:
    """The hub's OpenAPI document, fetched through the ASGI app."""
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_hub.client.app)


FUZZ = settings(
    max_examples=25,  # about a minute on two cores for every operation and role
    derandomize=True,  # the same examples every run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _fuzz(operation: Any, hub: Hub) -> None:
    @FUZZ
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        for role in ROLES:
            case.call_and_validate(
                headers=hub.auth(f"fuzz-{role}"),
                checks=[not_a_server_error, response_schema_conformance],
            )

    run()


def test_no_server_error_and_responses_match_the_schema(api_schema: Any, fuzz_hub: Hub) -> None:
    # One loop rather than schemathesis's pytest plugin, whose parametrisation
    # this pytest does not support; every failing operation is reported, not the first.
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        try:
            _fuzz(operation, fuzz_hub)
        except BaseException as exc:  # schemathesis raises a BaseExceptionGroup
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{operation.label}: {_summary(exc)}")
    assert not failures, "\n".join(failures)


def _summary(exc: BaseException) -> str:
    found = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
    return "; ".join(sorted({" ".join(str(e).split())[:160] for e in found}))


def test_the_fuzzed_document_is_the_apps(api_schema: Any) -> None:
    paths = set(api_schema.raw_schema["paths"])
    assert "/v1/subjects/resolve" in paths
    assert len(paths) >= 20
