"""pycasbin's known traps: each is shown to exist in raw pycasbin, then shown handled by us.

This is the only test module that imports ``casbin`` directly: to prove each trap
is real (so the guard test could fail), not to use it.
"""

from __future__ import annotations

import casbin
import pytest

from policy.casbin_backend import CasbinPartitions, check_model_text, load_model_text
from policy.enforcer import PolicyEngine, Request
from policy.errors import PolicyEvaluationError, PolicyModelError, PolicyValidationError
from policy.policy_file import parse_policy
from policy.rules import RULE_FIELDS, Rule
from policy.validation import rule_from_fields
from tests.policy.conftest import toml_rule

ALLOW_SU = Rule(
    "behavioral_health", "police_officer", "substance_use", "*", "consent_granted", "allow"
)
DENY_SU = Rule("*", "police_officer", "substance_use", "*", "always", "deny")
OFFICER_READS_SU = Request.of(
    "police_officer", "behavioral_health", "behavioral_health", "substance_use", "treatment",
    consent="granted",
)  # fmt: skip

SIMPLE_MODEL = """
[request_definition]
r = sub, obj

[policy_definition]
p = sub, obj, eft

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.sub == p.sub && r.obj == p.obj
"""


# --- inline '#' comments -------------------------------------------------------------


def test_raw_casbin_keeps_an_inline_comment_in_a_csv_value_and_loses_the_deny(tmp_path):
    (tmp_path / "model.conf").write_text(SIMPLE_MODEL)
    (tmp_path / "policy.csv").write_text(
        "p, officer, substance_use, allow\np, officer, substance_use, deny # guard rail\n"
    )
    enforcer = casbin.Enforcer(str(tmp_path / "model.conf"), str(tmp_path / "policy.csv"))
    assert ["officer", "substance_use", "deny # guard rail"] in enforcer.get_policy()
    assert enforcer.enforce("officer", "substance_use")  # the trap: the deny is gone


@pytest.mark.parametrize("field", range(6))
def test_our_row_loader_refuses_a_value_carrying_a_comment(field):
    fields = list(DENY_SU.to_fields())
    fields[field] += " # guard rail"
    with pytest.raises(PolicyValidationError) as caught:
        rule_from_fields(fields)
    assert caught.value.field == RULE_FIELDS[field]


SU = {"role": "police_officer", "category": "substance_use", "purpose": "*", "condition": "always"}
SU_RULE = toml_rule(**SU, effect="deny")


def test_policy_file_comments_never_leak_into_values():
    text = f"""
    format = 1  # the format
    version = "v1"  # a version
    [program]  # guard rails
    rules = [
      # substance use never to police
      {SU_RULE},  # trailing
    ]
    """
    policy = parse_policy(text)
    assert policy.rules == (DENY_SU,)


def test_policy_file_refuses_a_comment_inside_a_quoted_value():
    text = f"""
    format = 1
    version = "v1"
    [program]
    rules = [{toml_rule(**SU, effect="deny # guard rail")}]
    """
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy(text)
    assert caught.value.field == "program.rules[0].effect"


def test_raw_casbin_keeps_an_inline_comment_in_a_model_token():
    model = SIMPLE_MODEL.replace("p = sub, obj, eft", "p = sub, obj, eft # three fields")
    tokens = casbin.Enforcer.new_model(text=model).model["p"]["p"].tokens
    assert tokens[-1] == "p_eft # three fields"  # the trap


def test_our_model_loader_refuses_an_inline_comment():
    model = load_model_text().replace(
        "p = scope, role, category, purpose, condition, eft",
        "p = scope, role, category, purpose, condition, eft # six fields",
    )
    with pytest.raises(PolicyModelError, match="inline '#'"):
        check_model_text(model)


def test_the_shipped_model_passes_its_own_checks():
    model = check_model_text(load_model_text())
    assert len(model.model["p"]["p"].tokens) == len(RULE_FIELDS) <= 6


# --- a seventh field -----------------------------------------------------------------


def test_a_seven_field_rule_is_refused_not_truncated():
    seven = [*DENY_SU.to_fields(), "note"]
    with pytest.raises(PolicyValidationError) as caught:
        rule_from_fields(seven)
    assert caught.value.field == "fields"
    assert caught.value.value == 7


def test_a_five_field_rule_is_refused():
    with pytest.raises(PolicyValidationError):
        rule_from_fields(DENY_SU.to_fields()[:5])


def test_a_model_with_seven_policy_fields_is_refused():
    model = load_model_text().replace(
        "p = scope, role, category, purpose, condition, eft",
        "p = scope, role, category, purpose, condition, note, eft",
    )
    with pytest.raises(PolicyModelError, match="policy fields"):
        check_model_text(model)


def test_policy_file_refuses_an_extra_rule_key():
    text = f"""
    format = 1
    version = "v1"
    [program]
    rules = [{toml_rule(**SU, effect="deny", note="x")}]
    """
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy(text)
    assert caught.value.field == "program.rules[0].note"


# --- g() transitivity ----------------------------------------------------------------

G_MODEL = """
[request_definition]
r = agency, owner

[policy_definition]
p = owner, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.agency, r.owner) && r.owner == p.owner
"""


def test_raw_casbin_role_inheritance_leaks_sharing_through_a_chain():
    enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=G_MODEL))
    enforcer.add_policy("c", "allow")
    enforcer.add_grouping_policy("a", "b")  # b shares with a
    enforcer.add_grouping_policy("b", "c")  # c shares with b
    assert enforcer.enforce("a", "c")  # the trap: c never agreed to share with a


def test_sharing_is_not_transitive():
    rules = [
        Rule(owner, "police_officer", "safety_flags", "*", "always", "allow") for owner in "bc"
    ]
    engine = PolicyEngine.from_rules(rules, [("c", "b"), ("b", "a")], "v1")

    def decide(agency: str, owner: str) -> str:
        return engine.decide(
            Request.of("police_officer", agency, owner, "safety_flags", "public_safety")
        ).reason

    assert decide("b", "c") == "allowed"
    assert decide("a", "b") == "allowed"
    assert decide("a", "c") == "no_sharing_agreement"


def test_our_model_loader_refuses_role_inheritance():
    model = load_model_text().replace(
        "[policy_effect]", "[role_definition]\ng = _, _\n\n[policy_effect]"
    )
    with pytest.raises(PolicyModelError, match="transitive"):
        check_model_text(model)


# --- a disabled enforcer -------------------------------------------------------------


def test_raw_casbin_allows_everything_when_disabled():
    enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=SIMPLE_MODEL))
    enforcer.enable_enforce(False)
    assert enforcer.enforce("anyone", "anything")  # the trap


def test_a_disabled_enforcer_denies_with_policy_error():
    engine = PolicyEngine.from_rules([ALLOW_SU], [("behavioral_health", "x")], "v1")
    request = Request.of(
        "police_officer", "x", "behavioral_health", "substance_use", "treatment", consent="granted"
    )
    assert engine.decide(request).allowed
    partitions = engine._partitions
    assert partitions is not None
    partitions._enforcer("behavioral_health", "substance_use", "police_officer").enable_enforce(
        False
    )
    fresh = Request.of(
        "police_officer", "x", "behavioral_health", "substance_use", "crisis_response",
        consent="granted",
    )  # fmt: skip
    assert engine.decide(fresh).reason == "policy_error"
    assert not engine.decide(fresh).allowed


def test_an_unavailable_engine_denies_everything():
    engine = PolicyEngine.unavailable("v9")
    decision = engine.decide(OFFICER_READS_SU)
    assert (decision.allowed, decision.reason) == (False, "policy_error")


# --- more pycasbin habits ------------------------------------------------------------


def test_raw_casbin_allows_blank_requests_when_there_are_no_rules():
    enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=SIMPLE_MODEL))
    assert enforcer.enforce("", "")  # the trap: matcher run against blank policy fields


def test_blank_request_fields_are_a_policy_error():
    engine = PolicyEngine.from_rules([], [], "v1")
    blank = Request.of("", "", "", "", "")
    assert engine.decide(blank).reason == "policy_error"


def test_raw_fast_enforcer_skips_wildcard_guard_rails(tmp_path):
    model = SIMPLE_MODEL.replace("r.sub == p.sub", '(r.sub == p.sub || p.sub == "*")')
    (tmp_path / "model.conf").write_text(model)
    rows = [["officer", "substance_use", "allow"], ["*", "substance_use", "deny"]]
    plain = casbin.Enforcer(str(tmp_path / "model.conf"))
    plain.add_policies(rows)
    fast = casbin.FastEnforcer(str(tmp_path / "model.conf"), cache_key_order=[0, 1])
    fast.add_policies(rows)
    assert not plain.enforce("officer", "substance_use")
    assert fast.enforce("officer", "substance_use")  # the trap: the '*' deny row is filtered out


def test_wildcard_guard_rails_apply_in_every_partition():
    engine = PolicyEngine.from_rules([ALLOW_SU, DENY_SU], [], "v1")
    decision = engine.decide(OFFICER_READS_SU)
    assert (decision.allowed, decision.reason, decision.rule) == (False, "denied_by_rule", DENY_SU)


def test_raw_casbin_add_policies_silently_adds_nothing_when_one_row_exists():
    enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=SIMPLE_MODEL))
    enforcer.add_policy("a", "x", "allow")
    assert not enforcer.add_policies([["a", "x", "allow"], ["b", "y", "deny"]])
    assert ["b", "y", "deny"] not in enforcer.get_policy()  # the trap


def test_a_partition_that_loses_rows_refuses_to_build():
    partitions = CasbinPartitions([], [])
    row = DENY_SU.to_fields()
    with pytest.raises(PolicyEvaluationError):
        partitions._build((row, row))


def test_an_exception_inside_casbin_is_a_policy_error(monkeypatch):
    engine = PolicyEngine.from_rules([ALLOW_SU], [("behavioral_health", "x")], "v1")
    partitions = engine._partitions
    assert partitions is not None
    enforcer = partitions._enforcer("behavioral_health", "substance_use", "police_officer")

    def explode(*_args: object) -> object:
        raise RuntimeError("invalid request size")  # what pycasbin raises, bare

    monkeypatch.setattr(enforcer, "enforce_ex", explode)
    request = Request.of("police_officer", "x", "behavioral_health", "substance_use", "treatment")
    assert engine.decide(request).reason == "policy_error"


def test_casbin_logging_stays_off():
    import logging

    PolicyEngine.from_rules([ALLOW_SU], [], "v1").decide(OFFICER_READS_SU)
    assert logging.getLogger("casbin.enforcer").disabled  # it would log request values
