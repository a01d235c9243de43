"""What-if: the pruned sweep lists exactly the decisions a brute-force sweep finds changed."""

from __future__ import annotations

import itertools
import time

import pytest

from policy.enforcer import PolicyEngine, Request
from policy.rules import PolicySet, Rule
from policy.vocabulary import CONSENT_STATES, PURPOSES
from policy.whatif import what_if

BH = "behavioral_health"
PART2_RAIL = ("*", "substance_use", "*")
AGENCIES = ["behavioral_health", "ems", "police_cad", "homeless_services"]
ROLES = ["police_officer", "bh_clinician", "ems_medic"]
CATEGORIES = ["behavioral_health", "substance_use", "communication_needs"]


def _key(request: Request) -> tuple:
    attributes = tuple(sorted(request.attributes.items()))
    return (
        request.role,
        request.agency,
        request.owner,
        request.category,
        request.purpose,
        attributes,
    )


def _brute_force(published: PolicyEngine, draft: PolicyEngine) -> set[tuple]:
    changed = set()
    for role, agency, owner, category, purpose, consent, glass, cjis in itertools.product(
        ROLES,
        AGENCIES,
        AGENCIES,
        CATEGORIES,
        PURPOSES,
        CONSENT_STATES,
        (False, True),
        (False, True),
    ):
        request = Request.of(
            role, agency, owner, category, purpose,
            consent=consent, break_glass=glass, cjis_authorized=cjis,
        )  # fmt: skip
        before, after = published.decide(request), draft.decide(request)
        if (before.allowed, before.reason) != (after.allowed, after.reason):
            changed.add((_key(request), before, after))
    return changed


def _drafts(policy: PolicySet) -> dict[str, tuple[tuple[Rule, ...], frozenset]]:
    rules, sharing = policy.rules, policy.sharing
    return {
        "agency adds a rule": (
            (*rules, Rule(BH, "police_officer", BH, "crisis_response", "consent_granted", "allow")),
            sharing,
        ),
        "program drops the Part 2 guard rail": (
            tuple(r for r in rules if (r.scope, r.category, r.purpose) != PART2_RAIL),
            sharing,
        ),
        "behavioral health stops sharing with police": (
            rules,
            sharing - {("behavioral_health", "police_cad")},
        ),
        "EMS opts in to police": (rules, sharing | {("ems", "police_cad")}),
        # Every agency's: allows are never program-wide, and substance use needs consent.
        "catch-all CJIS rule": (
            (*rules, *(Rule(owner, "*", category, "*", "cjis_authorized", "allow")
                       for owner in AGENCIES for category in CATEGORIES
                       if category != "substance_use")),
            sharing,
        ),
    }  # fmt: skip


@pytest.mark.parametrize(
    "name",
    [
        "agency adds a rule",
        "program drops the Part 2 guard rail",
        "behavioral health stops sharing with police",
        "EMS opts in to police",
        "catch-all CJIS rule",
    ],
)
def test_what_if_matches_brute_force(default_policy: PolicySet, name: str) -> None:
    rules, sharing = _drafts(default_policy)[name]
    published = PolicyEngine.from_policy_set(default_policy)
    draft = PolicyEngine.from_rules(rules, sharing, "draft")
    report = what_if(published, draft, AGENCIES, roles=ROLES, categories=CATEGORIES)
    listed = {(_key(c.request), c.before, c.after) for c in report.changes}
    assert len(listed) == len(report.changes)
    assert listed == _brute_force(published, draft)
    assert listed  # every draft here changes something
    assert report.evaluated < report.combinations


def test_an_unchanged_draft_changes_nothing_and_evaluates_nothing(
    default_policy: PolicySet,
) -> None:
    published = PolicyEngine.from_policy_set(default_policy)
    draft = PolicyEngine.from_rules(
        tuple(reversed(default_policy.rules)), default_policy.sharing, "d"
    )
    report = what_if(published, draft)
    assert report.changes == ()
    assert report.evaluated == 0
    assert report.combinations == 11 * 11 * 4 * 4 * 5 * 4 * 2 * 2


def test_the_summary_counts_changes_by_owner_category_and_reasons(
    default_policy: PolicySet,
) -> None:
    rules = tuple(r for r in default_policy.rules if r.condition != "break_glass")
    report = what_if(
        PolicyEngine.from_policy_set(default_policy),
        PolicyEngine.from_rules(rules, default_policy.sharing, "d"),
    )
    summary = report.summary()
    for owner, category, before, after in summary:
        assert owner == "behavioral_health"
        assert category in ("behavioral_health", "substance_use")
        assert before in ("allowed", "break_glass_available")
        assert after not in ("allowed", "break_glass_available")
    assert summary[("behavioral_health", "substance_use", "allowed", "default_deny")] > 0
    assert sum(summary.values()) == len(report.changes)


def test_a_program_wide_change_over_the_demo_agencies_takes_seconds_at_most(
    default_policy: PolicySet,
) -> None:
    rules = (*default_policy.rules, Rule("*", "*", "*", "public_safety", "always", "deny"))
    published = PolicyEngine.from_policy_set(default_policy)
    draft = PolicyEngine.from_rules(rules, default_policy.sharing, "d")
    started = time.perf_counter()
    report = what_if(published, draft)
    assert time.perf_counter() - started < 15  # ~2 s on the 2-core dev machine; generous
    assert report.changes
