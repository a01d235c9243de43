"""The limits on allow rules no editor can lift (issue #11, item 3), and the engine's backstop.

Validation refuses program-wide allows and any allow of substance use (or of
``*``) whose condition does not need consent; the engine and the view refuse to
release substance use without granted consent outside break-glass even when such
a rule reaches them by another road (built here directly, without validation).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy.casbin_backend import CasbinPartitions
from policy.conditions import CONDITIONS, CONSENT_REQUIRING_CONDITIONS, ConditionContext
from policy.consent import Requester
from policy.enforcer import Decision, PolicyEngine, Request
from policy.errors import PolicyValidationError
from policy.policy_file import parse_policy
from policy.rules import PolicySet, Rule
from policy.validation import validate_policy_set, validate_rule
from policy.view import CategoryDecision, build_view, subject_view
from policy.vocabulary import CATEGORIES, CONSENT_REQUIRED_CATEGORIES, CONSENT_STATES, PURPOSES
from tests.policy.conftest import NOW, toml_rule

BH = "behavioral_health"
SU = "substance_use"

REFUSED = [
    # (rule, the field the error names)
    (Rule("*", "*", "housing", "*", "always", "allow"), "effect"),
    (Rule("*", "bh_clinician", SU, "treatment", "consent_granted", "allow"), "effect"),
    (Rule(BH, "bh_clinician", SU, "treatment", "always", "allow"), "condition"),
    (Rule(BH, "bh_clinician", SU, "treatment", "same_agency", "allow"), "condition"),
    (Rule(BH, "police_officer", SU, "*", "cjis_authorized", "allow"), "condition"),
    (Rule(BH, "bh_clinician", "*", "treatment", "always", "allow"), "condition"),
    (Rule(BH, "case_manager", "*", "*", "same_agency", "allow"), "condition"),
    (Rule(BH, "ems_medic", SU, "*", "break_glass", "allow"), "purpose"),
    (Rule(BH, "ems_medic", "*", "*", "break_glass", "allow"), "purpose"),
]  # fmt: skip

ACCEPTED = [
    Rule(BH, "bh_clinician", SU, "treatment", "consent_granted", "allow"),
    Rule(BH, "bh_clinician", SU, "*", "consent_granted_or_not_required", "allow"),
    Rule(BH, "bh_clinician", "*", "*", "consent_granted", "allow"),
    Rule(BH, "ems_medic", SU, "emergency", "break_glass", "allow"),
    Rule(BH, "ems_medic", "*", "emergency", "break_glass", "allow"),
    Rule(BH, "ems_medic", "behavioral_health", "*", "break_glass", "allow"),
    Rule(BH, "case_manager", "housing", "*", "same_agency", "allow"),
    Rule(BH, "police_officer", SU, "*", "always", "deny"),
    Rule("*", "police_officer", SU, "*", "always", "deny"),
    Rule("*", "*", "*", "public_safety", "same_agency", "deny"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "field"), REFUSED, ids=[r.describe() for r, _ in REFUSED])
def test_validation_refuses_allows_that_bypass_consent_or_the_owner(rule: Rule, field: str) -> None:
    with pytest.raises(PolicyValidationError) as caught:
        validate_rule(rule)
    assert caught.value.field == field
    with pytest.raises(PolicyValidationError) as in_a_set:
        validate_policy_set([ACCEPTED[0], rule], [], "v")
    assert in_a_set.value.field == f"rules[1].{field}"


@pytest.mark.parametrize("rule", ACCEPTED, ids=[r.describe() for r in ACCEPTED])
def test_validation_accepts_consent_bound_allows_and_any_guard_rail(rule: Rule) -> None:
    assert validate_rule(rule) is rule


def test_the_error_says_what_substance_use_needs() -> None:
    with pytest.raises(PolicyValidationError) as caught:
        validate_rule(Rule(BH, "*", "*", "*", "always", "allow"))
    message = str(caught.value)
    assert "substance_use" in message
    assert "consent_granted" in message
    assert "break_glass for purpose 'emergency'" in message


def test_a_policy_file_with_a_program_wide_allow_names_its_path() -> None:
    rule = toml_rule(role="*", category="identity", purpose="*", condition="always", effect="allow")
    text = f'format = 1\nversion = "v"\n[program]\nrules = [{rule}]\n'
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy(text)
    assert caught.value.field == "program.rules[0].effect"


def test_the_default_policy_keeps_allows_in_agency_scopes(default_policy: PolicySet) -> None:
    allows = [r for r in default_policy.rules if r.effect == "allow"]
    assert allows
    assert all(r.scope != "*" for r in allows)
    assert {r.condition for r in allows if r.category == SU} <= {"consent_granted", "break_glass"}


# --- the conditions that qualify ---------------------------------------------------------

contexts = st.builds(
    ConditionContext,
    consent=st.sampled_from(CONSENT_STATES),
    break_glass=st.booleans(),
    cjis_authorized=st.booleans(),
    same_agency=st.booleans(),
    purpose=st.sampled_from(PURPOSES),
    category=st.sampled_from(sorted(CONSENT_REQUIRED_CATEGORIES)),
)


@settings(max_examples=200, deadline=None)
@given(ctx=contexts)
def test_consent_requiring_conditions_never_hold_for_part2_without_consent(
    ctx: ConditionContext,
) -> None:
    for name in CONSENT_REQUIRING_CONDITIONS:
        assert CONDITIONS[name].test(ctx) == (ctx.consent == "granted"), name
    if CONDITIONS["break_glass"].test(ctx):
        assert ctx.break_glass
        assert ctx.purpose == "emergency"


def test_every_other_condition_can_hold_without_consent_so_is_refused() -> None:
    """The set is exact: each condition left out holds for substance use with no consent."""
    ctx = ConditionContext("none", False, True, True, "treatment", SU)
    others = set(CONDITIONS) - CONSENT_REQUIRING_CONDITIONS - {"break_glass"}
    assert others == {"always", "cjis_authorized", "same_agency"}
    assert all(CONDITIONS[name].test(ctx) for name in others)


# --- the backstop: rules that skipped validation -----------------------------------------

#: Rules validation refuses, put straight into an engine as if they came from storage.
UNVALIDATED = (
    Rule(BH, "bh_clinician", SU, "*", "always", "allow"),
    Rule(BH, "case_manager", "*", "*", "same_agency", "allow"),
    Rule(BH, "ems_medic", SU, "emergency", "break_glass", "allow"),  # valid: the one way in
)


def _unvalidated_engine() -> PolicyEngine:
    sharing = frozenset({(BH, "ems")})
    return PolicyEngine(
        PolicySet(UNVALIDATED, sharing, "raw"), CasbinPartitions(UNVALIDATED, sharing)
    )


@pytest.mark.parametrize(
    ("role", "agency", "purpose", "consent", "break_glass", "expected"),
    [
        ("bh_clinician", BH, "treatment", "none", False, (False, "consent_required")),
        ("bh_clinician", BH, "treatment", "revoked", False, (False, "consent_revoked")),
        ("bh_clinician", BH, "treatment", "expired", False, (False, "consent_expired")),
        ("bh_clinician", "ems", "care_coordination", "none", False, (False, "consent_required")),
        ("case_manager", BH, "care_coordination", "none", False, (False, "consent_required")),
        ("bh_clinician", BH, "treatment", "none", True, (False, "consent_required")),
        ("bh_clinician", BH, "treatment", "granted", False, (True, "allowed")),
        ("case_manager", BH, "crisis_response", "granted", False, (True, "allowed")),
        ("bh_clinician", BH, "emergency", "none", True, (False, "consent_required")),
        ("ems_medic", "ems", "emergency", "none", True, (True, "allowed")),
    ],
)
def test_the_engine_never_releases_substance_use_without_consent_outside_break_glass(
    role: str, agency: str, purpose: str, consent: str, break_glass: bool, expected: tuple
) -> None:
    engine = _unvalidated_engine()
    request = Request.of(role, agency, BH, SU, purpose, consent=consent, break_glass=break_glass)
    decision = engine.decide(request)
    assert (decision.allowed, decision.reason) == expected
    if not decision.allowed:
        assert decision.rule is None
        assert decision.would_allow in UNVALIDATED  # with consent, that rule would decide


def test_the_backstop_leaves_other_categories_alone() -> None:
    engine = _unvalidated_engine()
    request = Request.of("case_manager", BH, BH, "housing", "care_coordination")
    assert engine.decide(request) == Decision(True, "allowed", UNVALIDATED[1])


def test_the_view_conceals_substance_use_an_unvalidated_rule_would_release() -> None:
    held = {BH: list(CATEGORIES)}
    clinician = Requester(BH, "bh_clinician")
    view = subject_view(_unvalidated_engine(), clinician, "treatment", held, [], NOW)
    assert view.disclosed == set()  # the only allow is the refused one
    assert view.agencies == ()
    manager = Requester(BH, "case_manager")
    view = subject_view(_unvalidated_engine(), manager, "treatment", held, [], NOW)
    assert (BH, SU) not in view.disclosed | view.withheld
    assert (BH, "housing") in view.disclosed


def test_the_view_itself_refuses_an_allowed_decision_without_consent() -> None:
    """Whatever hands it decisions, the view releases Part 2 data only by consent or break-glass."""
    always = Rule(BH, "*", SU, "*", "always", "allow")
    glass = Rule(BH, "*", SU, "emergency", "break_glass", "allow")
    shared = CategoryDecision(
        BH,
        "identity",
        "none",
        Decision(True, "allowed", Rule(BH, "*", "identity", "*", "always", "allow")),
    )
    for consent in ("none", "revoked", "expired"):
        forged = CategoryDecision(BH, SU, consent, Decision(True, "allowed", always))
        view = build_view([shared, forged])
        assert (BH, SU) not in view.disclosed | view.withheld
        assert view.notices == ()
    granted = CategoryDecision(BH, SU, "granted", Decision(True, "allowed", always))
    assert (BH, SU) in build_view([granted]).disclosed
    broken = CategoryDecision(BH, SU, "none", Decision(True, "allowed", glass))
    assert (BH, SU) in build_view([broken]).disclosed
