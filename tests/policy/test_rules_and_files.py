"""Rule validation against the closed lists, authority, the policy file format and diffs."""

from __future__ import annotations

import pytest

from policy.errors import PolicyAuthorityError, PolicyFormatError, PolicyValidationError
from policy.policy_file import dump_policy, parse_policy
from policy.rules import PolicySet, Rule, diff_policies
from policy.validation import (
    check_rule_authority,
    check_sharing_authority,
    validate_policy_set,
    validate_rule,
    validate_sharing,
)
from tests.policy.conftest import toml_rule

GOOD = Rule("police_cad", "ems_medic", "safety_flags", "emergency", "always", "allow")


@pytest.mark.parametrize(
    ("field", "typo"),
    [
        ("scope", "Police CAD"),
        ("role", "paramedic"),
        ("category", "behavioural_health"),
        ("purpose", "curiosity"),
        ("condition", "lambda: True"),
        ("condition", "consent_granted or True"),
        ("effect", "permit"),
        ("effect", "allow "),
    ],
)
def test_a_typo_is_an_error_naming_the_field(field: str, typo: str) -> None:
    values = dict(
        zip(
            ("scope", "role", "category", "purpose", "condition", "effect"),
            GOOD.to_fields(),
            strict=True,
        )
    )
    values[field] = typo
    with pytest.raises(PolicyValidationError) as caught:
        validate_rule(Rule(**values))
    assert (caught.value.field, caught.value.value) == (field, typo)


def test_break_glass_rules_apply_only_to_emergencies() -> None:
    with pytest.raises(PolicyValidationError) as caught:
        validate_rule(Rule("ems", "ems_medic", "medical", "treatment", "break_glass", "allow"))
    assert caught.value.field == "purpose"


def test_wildcards_are_accepted() -> None:
    assert validate_rule(Rule("*", "*", "*", "*", "always", "deny"))


@pytest.mark.parametrize(
    ("pair", "field"),
    [(("ems", "ems"), "recipient"), (("ems", "Fire"), "recipient"), (("", "ems"), "owner")],
)
def test_bad_sharing_pairs_are_refused(pair: tuple[str, str], field: str) -> None:
    with pytest.raises(PolicyValidationError) as caught:
        validate_sharing(pair)
    assert caught.value.field == field


def test_duplicates_are_refused() -> None:
    with pytest.raises(PolicyValidationError) as caught:
        validate_policy_set([GOOD, GOOD], [], "v1")
    assert caught.value.field == "rules[1]"
    with pytest.raises(PolicyValidationError) as caught:
        validate_policy_set([], [("a", "b"), ["a", "b"]], "v1")
    assert caught.value.field == "sharing[1]"


@pytest.mark.parametrize("version", ["", "two words", "x" * 65, 3])
def test_bad_versions_are_refused(version: object) -> None:
    with pytest.raises(PolicyValidationError) as caught:
        validate_policy_set([], [], version)
    assert caught.value.field == "version"


AUTHORITY = [
    # (editor role, editor agency, rule scope, may edit)
    ("privacy_officer", "police_cad", "police_cad", True),
    ("privacy_officer", "police_cad", "ems", False),
    ("privacy_officer", "police_cad", "*", False),
    ("program_privacy_officer", "program", "*", True),
    ("program_privacy_officer", "program", "program", True),
    ("program_privacy_officer", "program", "police_cad", False),
    ("admin", "program", "*", False),
]


@pytest.mark.parametrize(("role", "agency", "scope", "may"), AUTHORITY)
def test_who_may_write_which_rules(role: str, agency: str, scope: str, may: bool) -> None:
    rule = Rule(scope, "ems_medic", "safety_flags", "emergency", "always", "allow")
    if may:
        check_rule_authority(rule, role, agency)
    else:
        with pytest.raises(PolicyAuthorityError):
            check_rule_authority(rule, role, agency)


def test_only_the_owner_opts_its_data_in() -> None:
    check_sharing_authority(("ems", "police_cad"), "privacy_officer", "ems")
    with pytest.raises(PolicyAuthorityError):
        check_sharing_authority(("ems", "police_cad"), "privacy_officer", "police_cad")
    with pytest.raises(PolicyAuthorityError):
        check_sharing_authority(("ems", "police_cad"), "program_privacy_officer", "program")


def test_export_then_import_gives_back_the_same_policy(default_policy: PolicySet) -> None:
    text = dump_policy(default_policy, header="exported for review")
    again = parse_policy(text)
    assert set(again.rules) == set(default_policy.rules)
    assert again.sharing == default_policy.sharing
    assert again.version == default_policy.version
    assert text.startswith("# exported for review\n")
    assert diff_policies(default_policy, again).is_empty


def test_export_is_commented_and_grouped(default_policy: PolicySet) -> None:
    text = dump_policy(default_policy)
    assert "# deny dispatcher, police_officer to read substance_use for any purpose" in text
    assert (
        '[agency.behavioral_health]\nshares_with = ["ems", "homeless_services", "police_cad"]'
        in text
    )


def test_the_default_policy_covers_the_demo_agencies(default_policy: PolicySet) -> None:
    scopes = {rule.scope for rule in default_policy.rules}
    assert scopes == {"*", "police_cad", "behavioral_health", "homeless_services", "ems"}


def test_list_values_expand_to_one_rule_per_combination() -> None:
    rule = toml_rule(
        role=["ems_medic", "bh_clinician"],
        category=["medical", "identity"],
        purpose="*",
        condition="always",
        effect="allow",
    )
    text = f'format = 1\nversion = "v1"\n[agency.ems]\nrules = [{rule}]'

    assert len(parse_policy(text).rules) == 4


EMS = 'format = 1\nversion = "v"\n[agency.ems]\n'
MEDICAL = {"role": "ems_medic", "category": "medical", "purpose": "*", "condition": "always"}


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('format = 2\nversion = "v"', "format"),
        ('format = 1\nversion = "v"\nowner = "x"', "owner"),
        ('format = 1\nversion = "v"\n[agency.Police]', "agency.Police"),
        (
            'format = 1\nversion = "v"\n[agency.ems]\nshares_with = "police_cad"',
            "agency.ems.shares_with",
        ),
        ('format = 1\nversion = "v"\n[agency.ems]\nshares_with = ["ems"]', "sharing[0].recipient"),
        ('format = 1\nversion = "v"\n[program]\nshares_with = ["ems"]', "program.shares_with"),
        (
            f"{EMS}rules = [{toml_rule(**MEDICAL)}]",
            "agency.ems.rules[0].effect",
        ),
        (
            f"{EMS}rules = [{toml_rule(scope='*', **MEDICAL, effect='allow')}]",
            "agency.ems.rules[0].scope",
        ),
        (
            f"{EMS}rules = [{toml_rule(**{**MEDICAL, 'role': []}, effect='allow')}]",
            "agency.ems.rules[0].role",
        ),
    ],
)
def test_import_errors_name_the_path(text: str, field: str) -> None:
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy(text)
    assert caught.value.field == field


def test_a_file_that_is_not_toml_is_a_format_error() -> None:
    with pytest.raises(PolicyFormatError):
        parse_policy("format = \n")


def test_diff_lists_added_and_removed_rules_and_opt_ins() -> None:
    other = Rule("ems", "bh_clinician", "medical", "treatment", "consent_granted", "allow")
    old = PolicySet((GOOD,), frozenset({("ems", "police_cad")}), "v1")
    new = PolicySet((other,), frozenset({("ems", "behavioral_health")}), "v2")
    diff = diff_policies(old, new)
    assert diff.added_rules == (other,)
    assert diff.removed_rules == (GOOD,)
    assert diff.added_sharing == (("ems", "behavioral_health"),)
    assert diff.removed_sharing == (("ems", "police_cad"),)
    assert not diff.is_empty
    assert diff_policies(old, PolicySet((GOOD,), old.sharing, "v9")).is_empty
