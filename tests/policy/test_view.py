"""The filtered view: concealment, reasons, Part 2 flags — and its invariants, property-tested."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from policy.conditions import CONDITIONS, ConditionContext
from policy.consent import Consent, Recipient, Requester, consent_state
from policy.enforcer import REASONS, Decision, PolicyEngine, Request
from policy.errors import PolicyValidationError
from policy.rules import Rule
from policy.validation import validate_rule
from policy.view import (
    CategoryDecision,
    Concealment,
    build_view,
    decide_categories,
    subject_view,
)
from policy.vocabulary import CATEGORIES, CONSENT_STATES, PURPOSES, RESPONDER_ROLES
from tests.policy.conftest import NOW

AGENCIES = ("alpha", "beta", "gamma")
ROLES = sorted(RESPONDER_ROLES)
FEW_CATEGORIES = ("behavioral_health", "substance_use", "safety_flags", "housing")
DAY = timedelta(days=1)
#: Agency ``b`` discloses one category, so its withheld ones are listed at all.
SHARED_BY_B = CategoryDecision(
    "b", "communication_needs", "none",
    Decision(True, "allowed", Rule("b", "*", "communication_needs", "*", "always", "allow")),
)  # fmt: skip

# --- examples ---------------------------------------------------------------------------


def test_concealment_is_configurable(engine: PolicyEngine) -> None:
    officer = Requester("police_cad", "police_officer")
    # Communication needs are disclosed, so the agency is in the view at all.
    held = {"behavioral_health": ["behavioral_health", "substance_use", "communication_needs"]}
    default = subject_view(engine, officer, "crisis_response", held, [], NOW)
    assert {w.category for a in default.agencies for w in a.withheld} == {"behavioral_health"}
    both = Concealment(frozenset({"behavioral_health", "substance_use"}))
    hidden = subject_view(engine, officer, "crisis_response", held, [], NOW, concealment=both)
    assert hidden.withheld == set()
    assert hidden.disclosed == {("behavioral_health", "communication_needs")}
    none = Concealment(frozenset())
    listed = subject_view(engine, officer, "crisis_response", held, [], NOW, concealment=none)
    assert {(w.category, w.reason) for a in listed.agencies for w in a.withheld} == {
        ("behavioral_health", "default_deny"),
        ("substance_use", "denied_by_rule"),
    }


def test_audit_decisions_include_what_the_view_conceals(engine: PolicyEngine) -> None:
    officer = Requester("police_cad", "police_officer")
    held = {"behavioral_health": ["substance_use"]}
    decisions = decide_categories(engine, officer, "crisis_response", held, [], NOW)
    assert [(d.category, d.decision.reason) for d in decisions] == [
        ("substance_use", "denied_by_rule")
    ]
    assert build_view(decisions).agencies == ()


def test_a_concealed_category_with_consent_granted_is_listed_when_withheld() -> None:
    decision = CategoryDecision(
        "b", "substance_use", "granted", Decision(False, "purpose_not_permitted")
    )
    view = build_view([SHARED_BY_B, decision])
    assert view.withheld == {("b", "substance_use")}
    assert (
        build_view(
            [SHARED_BY_B, CategoryDecision("b", "substance_use", "none", decision.decision)]
        ).withheld
        == set()
    )


def test_a_policy_error_conceals_too(default_policy) -> None:
    broken = PolicyEngine.unavailable()
    view = subject_view(
        broken, Requester("ems", "ems_medic"), "emergency",
        {"behavioral_health": ["substance_use", "housing"]}, [], NOW,
    )  # fmt: skip
    assert view.agencies == ()  # a broken policy discloses nothing, so names no agency
    error = Decision(False, "policy_error")
    decisions = [
        SHARED_BY_B,
        CategoryDecision("b", "substance_use", "none", error),
        CategoryDecision("b", "housing", "none", error),
    ]
    assert build_view(decisions).withheld == {("b", "housing")}


# --- properties -------------------------------------------------------------------------


def _valid(rule: Rule) -> bool:
    try:
        validate_rule(rule)
    except PolicyValidationError:
        return False
    return True


@st.composite
def _rules(draw: st.DrawFn) -> Rule:
    condition = draw(st.sampled_from(sorted(CONDITIONS)))
    purposes = ("emergency", "*") if condition == "break_glass" else (*PURPOSES, "*")
    scope = draw(st.sampled_from((*AGENCIES, "*")))
    return Rule(
        scope=scope,
        role=draw(st.sampled_from((*ROLES, "*"))),
        category=draw(st.sampled_from((*FEW_CATEGORIES, "*"))),
        purpose=draw(st.sampled_from(purposes)),
        condition=condition,
        effect="deny" if scope == "*" else draw(st.sampled_from(("allow", "allow", "deny"))),
    )


#: Valid rules: program-wide ones deny; substance-use allows need consent or break-glass.
rules = _rules().filter(_valid)


@st.composite
def consents(draw: st.DrawFn) -> Consent:
    start = NOW + draw(st.integers(-40, 5)) * DAY
    return Consent(
        consent_id=draw(st.sampled_from(("c1", "c2", "c3"))),
        version=draw(st.integers(1, 3)),
        status=draw(st.sampled_from(("active", "active", "inactive", "rejected", "draft"))),
        owner=draw(st.sampled_from(AGENCIES)),
        record_id="r1",
        grantor="subject",
        recipients=(
            Recipient(
                agency=draw(st.sampled_from((None, *AGENCIES))),
                role=draw(st.sampled_from((None, *ROLES))),
            ),
        ),
        categories=frozenset(draw(st.sets(st.sampled_from(FEW_CATEGORIES), min_size=1))),
        purposes=frozenset(draw(st.sets(st.sampled_from(PURPOSES), min_size=1))),
        period_start=start,
        period_end=start + draw(st.integers(1, 60)) * DAY,
        recorded=start - DAY + draw(st.integers(0, 3)) * DAY,
    )


pairs = st.sets(
    st.tuples(st.sampled_from(AGENCIES), st.sampled_from(AGENCIES)).filter(lambda p: p[0] != p[1])
)


@settings(max_examples=100, deadline=None)
@given(
    policy=st.lists(rules, unique=True, max_size=25),
    sharing=pairs,
    requester=st.builds(Requester, st.sampled_from(AGENCIES), st.sampled_from(ROLES)),
    purpose=st.sampled_from(PURPOSES),
    registry=st.lists(consents(), max_size=4),
    available=st.dictionaries(
        st.sampled_from(AGENCIES), st.sets(st.sampled_from(FEW_CATEGORIES)), max_size=3
    ),
    break_glass=st.booleans(),
    cjis=st.booleans(),
    concealed=st.sets(st.sampled_from(FEW_CATEGORIES)),
)
def test_no_view_shows_a_denied_category_or_a_concealed_one(
    policy, sharing, requester, purpose, registry, available, break_glass, cjis, concealed
) -> None:
    engine = PolicyEngine.from_rules(policy, sharing, "random")
    referee = PolicyEngine.from_rules(policy, sharing, "random")  # fresh memo, same rules
    concealment = Concealment(frozenset(concealed))
    view = subject_view(
        engine, requester, purpose, available, registry, NOW,
        break_glass=break_glass, cjis_authorized=cjis, concealment=concealment,
    )  # fmt: skip
    reasons = {(a.owner, w.category): w.reason for a in view.agencies for w in a.withheld}
    assert not view.disclosed & set(reasons)
    listed_agencies = {a.owner for a in view.agencies}
    for owner, categories in available.items():
        decisions = {
            category: (consent, referee.decide(
                Request.of(
                    requester.role, requester.agency, owner, category, purpose,
                    consent=consent, break_glass=break_glass, cjis_authorized=cjis,
                )
            ))
            for category in categories
            for consent in [consent_state(registry, owner, requester, category, purpose, NOW)]
        }  # fmt: skip
        discloses = any(decision.allowed for _, decision in decisions.values())
        assert (owner in listed_agencies) == discloses  # nothing disclosed: not even named
        for category, (consent, decision) in decisions.items():
            shown = (owner, category) in view.disclosed
            assert shown == decision.allowed  # nothing denied shown, nothing allowed lost
            if not decision.allowed and (not discloses or concealment.hides(category, consent)):
                assert (owner, category) not in reasons  # concealed: not even a reason
            elif not decision.allowed:
                assert reasons[(owner, category)] == decision.reason
    assert all(reason in REASONS and reason != "allowed" for reason in reasons.values())
    assert all(
        d.redisclosure_notice == (d.category == "substance_use")
        for a in view.agencies
        for d in a.disclosed
    )


contexts = st.builds(
    ConditionContext,
    consent=st.sampled_from(CONSENT_STATES),
    break_glass=st.booleans(),
    cjis_authorized=st.booleans(),
    same_agency=st.booleans(),
    purpose=st.sampled_from(PURPOSES),
    category=st.sampled_from(CATEGORIES),
)


@settings(max_examples=300, deadline=None)
@given(ctx=contexts, other=contexts, name=st.sampled_from(sorted(CONDITIONS)))
def test_conditions_read_only_the_attributes_they_declare(
    ctx: ConditionContext, other: ConditionContext, name: str
) -> None:
    """what-if skips undeclared attributes, so each declaration must be true."""
    condition = CONDITIONS[name]
    mixed = ConditionContext(
        consent=(ctx if "consent" in condition.reads else other).consent,
        break_glass=(ctx if "break_glass" in condition.reads else other).break_glass,
        cjis_authorized=(ctx if "cjis_authorized" in condition.reads else other).cjis_authorized,
        same_agency=ctx.same_agency,
        purpose=ctx.purpose,
        category=ctx.category,
    )
    assert condition.test(mixed) == condition.test(ctx)
