"""The policy file: a whole rule set as readable, commented TOML (export/import).

Layout (comments anywhere; TOML drops them, so they never reach a value)::

    format = 1
    version = "2025-01-15"

    [program]                      # guard rails: scope "*", by the program privacy officer
    rules = [
      { role = ["police_officer", "dispatcher"], category = "substance_use",
        purpose = "*", condition = "always", effect = "deny" },
    ]

    [agency.behavioral_health]     # rules for this agency's data, by its privacy officer
    shares_with = ["ems", "police_cad"]
    rules = [ ... ]

A rule's scope comes from its section. ``role``, ``category`` and ``purpose``
take one value or a list (the rule is repeated for each combination). Every
value is validated against the closed lists on import; errors name the path,
e.g. ``agency.ems.rules[2].category``. Export writes one entry per group of rules
that differ only by role, each under a generated comment saying what it does.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from collections.abc import Mapping
from typing import Any

from policy.errors import PolicyFormatError, PolicyValidationError
from policy.rules import PolicySet, Rule
from policy.validation import validate_agency, validate_policy_set, validate_rule
from policy.vocabulary import WILDCARD

__all__ = ["FORMAT_VERSION", "dump_policy", "parse_policy"]

FORMAT_VERSION = 1
_RULE_KEYS = ("role", "category", "purpose", "condition", "effect")
_LISTABLE = ("role", "category", "purpose")


def parse_policy(text: str) -> PolicySet:
    """The validated policy set in a policy file's text.

    Raises:
        PolicyFormatError: not TOML, or not laid out as a policy file.
        PolicyValidationError: a value outside its closed list (``field`` is its path).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFormatError(f"policy file is not valid TOML: {exc}") from None
    _only_keys(data, ("format", "version", "program", "agency"), "")
    if data.get("format") != FORMAT_VERSION:
        raise PolicyValidationError("format", data.get("format"), f"must be {FORMAT_VERSION}")
    rules: list[Rule] = []
    sharing: list[tuple[str, str]] = []
    program = _table(data.get("program", {}), "program")
    _only_keys(program, ("rules",), "program")
    rules += _rules(program.get("rules", []), WILDCARD, "program")
    agencies = _table(data.get("agency", {}), "agency")
    for agency, section in agencies.items():
        where = f"agency.{agency}"
        validate_agency(where, agency)
        section = _table(section, where)
        _only_keys(section, ("shares_with", "rules"), where)
        recipients = section.get("shares_with", [])
        if not isinstance(recipients, list):
            raise PolicyValidationError(f"{where}.shares_with", recipients, "must be a list")
        sharing += [(agency, recipient) for recipient in recipients]
        rules += _rules(section.get("rules", []), agency, where)
    return validate_policy_set(rules, sharing, data.get("version"))


def _rules(entries: object, scope: str, where: str) -> list[Rule]:
    if not isinstance(entries, list):
        raise PolicyValidationError(f"{where}.rules", type(entries).__name__, "must be a list")
    rules: list[Rule] = []
    for i, entry in enumerate(entries):
        path = f"{where}.rules[{i}]"
        entry = _table(entry, path)
        _only_keys(entry, _RULE_KEYS, path)
        values = [_values(entry, key, path) for key in _RULE_KEYS]
        for role, category, purpose, condition, effect in itertools.product(*values):
            rule = Rule(scope, role, category, purpose, condition, effect)
            try:
                validate_rule(rule)
            except PolicyValidationError as exc:
                raise exc.under(path) from None
            rules.append(rule)
    return rules


def _values(entry: Mapping[str, Any], key: str, path: str) -> list[str]:
    if key not in entry:
        raise PolicyValidationError(f"{path}.{key}", None, "required")
    value = entry[key]
    values = value if isinstance(value, list) and key in _LISTABLE else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise PolicyValidationError(f"{path}.{key}", value, "must be text (or a list of text)")
    return list(values)


def _table(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyFormatError(f"{where or 'file'}: must be a table")
    return value


def _only_keys(table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            field = f"{where}.{key}" if where else key
            raise PolicyValidationError(field, key, f"unknown key (allowed: {', '.join(allowed)})")


def dump_policy(policy: PolicySet, header: str = "") -> str:
    """``policy`` as a policy file; :func:`parse_policy` reads back the same set."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines += [
        "# Crosswalk access policy. Deny overrides allow; what no rule allows is denied.",
        f"format = {FORMAT_VERSION}",
        f"version = {_quote(policy.version)}",
        "",
        "# Program-wide guard rails (scope *), written by the program privacy officer.",
        "[program]",
        *_rule_lines([r for r in policy.rules if r.scope == WILDCARD]),
    ]
    agencies = sorted({r.scope for r in policy.rules} - {WILDCARD} | {o for o, _ in policy.sharing})
    for agency in agencies:
        recipients = sorted(r for o, r in policy.sharing if o == agency)
        lines += [
            "",
            f"# Rules for the data of {agency}, written by its privacy officer.",
            f"[agency.{agency}]",
            f"shares_with = [{', '.join(_quote(r) for r in recipients)}]",
            *_rule_lines([r for r in policy.rules if r.scope == agency]),
        ]
    return "\n".join(lines) + "\n"


def _rule_lines(rules: list[Rule]) -> list[str]:
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for rule in sorted(rules):
        key = (rule.category, rule.purpose, rule.condition, rule.effect)
        groups.setdefault(key, []).append(rule.role)
    lines = ["rules = ["]
    for (category, purpose, condition, effect), roles in groups.items():
        first = Rule("-", ", ".join(roles), category, purpose, condition, effect)
        lines.append(f"  # {first.describe().rsplit(' (', 1)[0]}")
        role = _quote(roles[0]) if len(roles) == 1 else f"[{', '.join(map(_quote, roles))}]"
        lines.append(
            f"  {{ role = {role}, category = {_quote(category)}, purpose = {_quote(purpose)},"
            f" condition = {_quote(condition)}, effect = {_quote(effect)} }},"
        )
    lines.append("]")
    return lines


def _quote(value: str) -> str:
    return json.dumps(value)  # a TOML basic string for any printable text
