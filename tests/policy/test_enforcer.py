"""The engine: deny overrides allow, default deny, reason codes, explain, fail-closed."""

from __future__ import annotations

import itertools
import logging
from concurrent.futures import ThreadPoolExecutor
from types import MappingProxyType

import casbin
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy import vocabulary
from policy.casbin_backend import CasbinPartitions, load_model_text
from policy.conditions import ConditionContext, condition_holds
from policy.enforcer import REASONS, Decision, PolicyEngine, Request
from policy.errors import PolicyValidationError
from policy.rules import Rule
from policy.vocabulary import RESPONDER_ROLES, Role

BH = "behavioral_health"
RULES = [
    Rule(BH, "bh_clinician", "behavioral_health", "treatment", "consent_granted", "allow"),
    Rule(BH, "ems_medic", "behavioral_health", "emergency", "break_glass", "allow"),
    Rule(BH, "*", "communication_needs", "*", "always", "allow"),
    Rule(BH, "police_officer", "criminal_history", "public_safety", "cjis_authorized", "allow"),
    Rule(BH, "case_manager", "follow_up", "*", "same_agency", "allow"),
    Rule("*", "*", "communication_needs", "public_safety", "always", "deny"),
]
SHARING = [(BH, "ems"), (BH, "police"), (BH, "shelter")]


@pytest.fixture
def small() -> PolicyEngine:
    return PolicyEngine.from_rules(RULES, SHARING, "v1")


CLIN, MEDIC, COP, CM = "bh_clinician", "ems_medic", "police_officer", "case_manager"
BHC, COMM, CRIM, FU = "behavioral_health", "communication_needs", "criminal_history", "follow_up"
TREAT, CRISIS, SAFETY, EMERG = "treatment", "crisis_response", "public_safety", "emergency"

CASES = [
    # (role, agency, category, purpose, consent, break_glass, cjis) -> (allowed, reason, rule)
    ((CLIN, BH, BHC, TREAT, "granted", False, False), (True, "allowed", 0)),
    ((CLIN, BH, BHC, TREAT, "none", False, False), (False, "consent_required", None)),
    ((CLIN, BH, BHC, TREAT, "revoked", False, False), (False, "consent_revoked", None)),
    ((CLIN, BH, BHC, TREAT, "expired", False, False), (False, "consent_expired", None)),
    ((CLIN, BH, BHC, CRISIS, "granted", False, False), (False, "purpose_not_permitted", None)),
    ((MEDIC, "ems", BHC, EMERG, "none", True, False), (True, "allowed", 1)),
    ((MEDIC, "ems", BHC, EMERG, "none", False, False), (False, "break_glass_available", None)),
    ((MEDIC, "ems", BHC, CRISIS, "none", True, False), (False, "break_glass_available", None)),
    ((COP, "police", COMM, CRISIS, "none", False, False), (True, "allowed", 2)),
    ((COP, "police", COMM, SAFETY, "none", False, False), (False, "denied_by_rule", 5)),
    ((COP, "police", CRIM, SAFETY, "none", False, True), (True, "allowed", 3)),
    ((COP, "police", CRIM, SAFETY, "none", False, False), (False, "default_deny", None)),
    ((COP, "police", BHC, TREAT, "granted", False, False), (False, "default_deny", None)),
    ((COP, "fire_dept", COMM, CRISIS, "none", False, False), (False, "no_sharing_agreement", None)),
    ((CM, BH, FU, "care_coordination", "none", False, False), (True, "allowed", 4)),
    ((CM, "shelter", FU, "care_coordination", "none", False, False), (False, "default_deny", None)),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "expected"), CASES)
def test_decision_table(small: PolicyEngine, fields: tuple, expected: tuple) -> None:
    role, agency, category, purpose, consent, break_glass, cjis = fields
    request = Request.of(
        role,
        agency,
        BH,
        category,
        purpose,
        consent=consent,
        break_glass=break_glass,
        cjis_authorized=cjis,
    )
    decision = small.decide(request)
    allowed, reason, index = expected
    assert (decision.allowed, decision.reason) == (allowed, reason)
    assert decision.rule == (RULES[index] if index is not None else None)
    assert decision.reason in REASONS


def test_deny_overrides_allow_whatever_the_order() -> None:
    allow = Rule(BH, "police_officer", "housing", "*", "always", "allow")
    deny = Rule(BH, "police_officer", "housing", "care_coordination", "always", "deny")
    request = Request.of("police_officer", BH, BH, "housing", "care_coordination")
    for rules in ([allow, deny], [deny, allow]):
        decision = PolicyEngine.from_rules(rules, [], "v").decide(request)
        assert (decision.allowed, decision.rule) == (False, deny)


def test_nothing_is_allowed_without_rules() -> None:
    engine = PolicyEngine.from_rules([], [], "empty")
    request = Request.of(
        "bh_clinician", BH, BH, "behavioral_health", "treatment", consent="granted"
    )
    assert engine.decide(request) == Decision(False, "default_deny")


def test_explain_names_the_deciding_rule(small: PolicyEngine) -> None:
    request = Request.of("police_officer", "police", BH, "communication_needs", "public_safety")
    text = small.decide(request).explain()
    assert text.startswith("denied_by_rule: deny any role to read communication_needs")
    assert "program-wide" in text
    pending = small.decide(Request.of("bh_clinician", BH, BH, "behavioral_health", "treatment"))
    assert pending.would_allow == RULES[0]
    assert "would be allowed by allow bh_clinician" in pending.explain()


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"consent": "granted", "break_glass": False},
        {"consent": "granted", "break_glass": False, "cjis_authorized": False, "extra": 1},
        {"consent": "yes", "break_glass": False, "cjis_authorized": False},
        {"consent": "granted", "break_glass": "no", "cjis_authorized": False},
        {"consent": None, "break_glass": False, "cjis_authorized": False},
    ],
)
def test_missing_or_malformed_attributes_fail_closed(small: PolicyEngine, attributes: dict) -> None:
    request = Request("bh_clinician", BH, BH, "behavioral_health", "treatment", attributes)
    assert small.decide(request) == Decision(False, "policy_error")


@pytest.mark.parametrize(
    "fields",
    [
        ("bh_clinican", BH, BH, "behavioral_health", "treatment"),
        ("bh_clinician", BH, BH, "behavioural_health", "treatment"),
        ("bh_clinician", BH, BH, "behavioral_health", "curiosity"),
        ("bh_clinician", "Police CAD", BH, "behavioral_health", "treatment"),
        ("bh_clinician", BH, "", "behavioral_health", "treatment"),
    ],
)
def test_unknown_request_values_fail_closed(small: PolicyEngine, fields: tuple) -> None:
    assert small.decide(Request.of(*fields, consent="granted")).reason == "policy_error"


def test_a_policy_error_is_logged_without_values(small: PolicyEngine, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="policy.enforcer")
    small.decide(Request.of("bh_clinician", "secret_agency", BH, "behavioural_health", "x"))
    assert "PolicyValidationError" in caplog.text
    assert "behavioural_health" not in caplog.text
    assert "secret_agency" not in caplog.text


def test_from_rules_names_the_bad_field() -> None:
    bad = Rule(BH, "bh_clinician", "behavioural_health", "treatment", "always", "allow")
    with pytest.raises(PolicyValidationError) as caught:
        PolicyEngine.from_rules([RULES[0], bad], [], "v1")
    assert caught.value.field == "rules[1].category"


def test_load_or_deny_refuses_the_whole_set_over_one_bad_rule(caplog) -> None:
    bad = Rule("*", "police_officer", "substance_use", "*", "always", "deny # rail")
    engine = PolicyEngine.load_or_deny([*RULES, bad], SHARING, "v2")
    request = Request.of(
        "bh_clinician", BH, BH, "behavioral_health", "treatment", consent="granted"
    )
    assert engine.decide(request).reason == "policy_error"
    assert engine.version == "v2"
    assert "rules[6].effect" in caplog.text


def test_a_new_version_is_a_new_engine_with_a_fresh_memo(small: PolicyEngine) -> None:
    request = Request.of(
        "bh_clinician", BH, BH, "behavioral_health", "treatment", consent="granted"
    )
    assert small.decide(request).allowed
    assert small.decide(request) is small.decide(request)  # memoised
    newer = PolicyEngine.from_rules(RULES[1:], SHARING, "v2")
    assert not newer.decide(request).allowed
    assert small.decide(request).allowed  # the old engine is unchanged (immutable)


def test_concurrent_decisions_agree_with_sequential_ones(default_policy) -> None:
    requests = [
        Request.of(role, agency, owner, category, purpose, consent=consent)
        for role in vocabulary.RESPONDER_ROLES
        for agency in ("police_cad", "ems", BH)
        for owner in (BH, "police_cad")
        for category in ("behavioral_health", "substance_use", "safety_flags", "housing")
        for purpose in ("crisis_response", "treatment")
        for consent in ("granted", "none")
    ]
    expected = [PolicyEngine.from_policy_set(default_policy).decide(r) for r in requests]
    shared = PolicyEngine.from_policy_set(default_policy)
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(shared.decide, requests))
    assert got == expected


def test_request_attributes_are_read_only() -> None:
    request = Request.of("bh_clinician", BH, BH, "behavioral_health", "treatment")
    assert isinstance(request.attributes, MappingProxyType)


def test_role_vocabulary_is_one_list_with_responders_and_law_enforcement_inside() -> None:
    assert set(vocabulary.ROLES) == {role.value for role in Role}
    assert {role.value for role in RESPONDER_ROLES} == vocabulary.RESPONDER_ROLES
    assert vocabulary.LAW_ENFORCEMENT_ROLES <= vocabulary.RESPONDER_ROLES


@settings(max_examples=30, deadline=None)
@given(
    rules=st.lists(
        st.builds(
            Rule,
            scope=st.sampled_from(("a", "b", "*")),
            role=st.sampled_from(("police_officer", "ems_medic", "*")),
            category=st.sampled_from(("housing", "medical", "*")),
            purpose=st.sampled_from(("treatment", "emergency", "*")),
            condition=st.sampled_from(
                ("always", "consent_granted", "cjis_authorized", "same_agency")
            ),
            effect=st.sampled_from(("allow", "deny")),
        ),
        unique=True,
        max_size=20,
    ),
    sharing=st.sets(st.sampled_from((("a", "b"), ("b", "a"), ("a", "c")))),
)
def test_partitioning_never_changes_casbins_answer(rules: list[Rule], sharing: set) -> None:
    """The engine's Casbin, over partitions, allows exactly what one plain Enforcer allows."""
    plain = casbin.Enforcer(casbin.Enforcer.new_model(text=load_model_text()))
    plain.add_function(
        "shared", lambda owner, agency: owner == agency or (owner, agency) in sharing
    )
    plain.add_function("condition", condition_holds)
    if rules:
        plain.add_policies([list(rule.to_fields()) for rule in rules])
    # Every drawn row goes to the partitions; the engine takes only rule sets that
    # validation passes (program-wide and consent-free '*' allows are refused).
    partitions = CasbinPartitions(rules, sharing)
    try:
        engine: PolicyEngine | None = PolicyEngine.from_rules(rules, sharing, "v")
    except PolicyValidationError:
        engine = None
    for role, agency, owner, category, purpose, consent, cjis in itertools.product(
        ("police_officer", "ems_medic"), ("a", "b", "c"), ("a", "b"), ("housing", "medical"),
        ("treatment", "emergency"), ("granted", "none"), (False, True),
    ):  # fmt: skip
        ctx = ConditionContext(consent, False, cjis, agency == owner, purpose, category)
        expected = plain.enforce(role, agency, owner, category, purpose, ctx)
        assert partitions.evaluate((role, agency, owner, category, purpose), ctx)[0] == expected
        if engine is not None:
            request = Request.of(
                role, agency, owner, category, purpose, consent=consent, cjis_authorized=cjis
            )
            assert engine.decide(request).allowed == expected
