"""Shared policy fixtures: the default demo policy, its engine, a clock and consents."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from policy.consent import Consent, Recipient
from policy.enforcer import PolicyEngine
from policy.policy_file import parse_policy
from policy.rules import PolicySet

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

ConsentFactory = Callable[..., Consent]


@pytest.fixture(scope="session")
def default_policy(demo_data_dir: Path) -> PolicySet:
    """``fixtures/policy/default.toml``, parsed and validated."""
    return parse_policy((demo_data_dir / "default_policy.toml").read_text(encoding="utf-8"))


@pytest.fixture
def engine(default_policy: PolicySet) -> PolicyEngine:
    """A fresh engine (fresh memo) for the default policy."""
    return PolicyEngine.from_policy_set(default_policy)


@pytest.fixture
def now() -> datetime:
    """The fixed time requests are made at."""
    return NOW


@pytest.fixture
def make_consent() -> ConsentFactory:
    """Build a consent by behavioral_health record ``bh-1`` with overridable fields."""

    def build(**fields: object) -> Consent:
        values: dict[str, object] = {
            "consent_id": "c1",
            "version": 1,
            "status": "active",
            "owner": "behavioral_health",
            "record_id": "bh-1",
            "grantor": "subject",
            "recipients": (Recipient(agency="behavioral_health"),),
            "categories": frozenset({"behavioral_health"}),
            "purposes": frozenset({"crisis_response", "treatment"}),
            "period_start": NOW - timedelta(days=30),
            "period_end": NOW + timedelta(days=335),
            "recorded": NOW - timedelta(days=30),
        }
        values.update(fields)
        return Consent(**values)

    return build


def toml_rule(**fields: object) -> str:
    """One inline-table rule for a policy file, from keyword fields."""
    return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in fields.items()) + " }"
