"""Validation of rules, sharing opt-ins and policy sets against the closed lists.

Every function raises :class:`~policy.errors.PolicyValidationError` naming the
offending field (``category``, ``rules[4].role``) so the service can answer 422
with it. Values are checked as exact members of their list: a value carrying an
inline ``# comment``, a comma or whitespace is simply not a member, which is how
Casbin's habit of keeping comment text inside CSV values is kept out. Two limits
on *allow* rules hold whoever edits: program-wide rules are deny-only guard rails,
and substance use is allowed only under a condition that needs consent (or
break-glass in an emergency).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from policy.conditions import CONDITIONS, CONSENT_REQUIRING_CONDITIONS
from policy.errors import PolicyAuthorityError, PolicyValidationError
from policy.rules import RULE_FIELDS, PolicySet, Rule, SharingPair
from policy.vocabulary import (
    AGENCY_NAME,
    CATEGORIES,
    CONSENT_REQUIRED_CATEGORIES,
    EFFECTS,
    PURPOSES,
    ROLES,
    WILDCARD,
)

__all__ = [
    "check_rule_authority",
    "check_sharing_authority",
    "rule_from_fields",
    "validate_agency",
    "validate_policy_set",
    "validate_rule",
    "validate_sharing",
    "validate_version",
]

_CLOSED_LISTS: dict[str, tuple[str, ...]] = {
    "role": (WILDCARD, *ROLES),
    "category": (WILDCARD, *CATEGORIES),
    "purpose": (WILDCARD, *PURPOSES),
    "condition": tuple(CONDITIONS),
    "effect": EFFECTS,
}


def validate_agency(field: str, value: object) -> str:
    """``value`` as an agency name (lower-case identifier), or an error naming ``field``."""
    if not isinstance(value, str) or not AGENCY_NAME.fullmatch(value):
        raise PolicyValidationError(field, value, "not an agency name (a-z, 0-9, _)")
    return value


def validate_rule(rule: Rule) -> Rule:
    """``rule`` unchanged if it is in the closed lists and within the limits on allows.

    Raises:
        PolicyValidationError: naming the first bad field; see :func:`_check_allow`
            for the limits no editor can lift.
    """
    if rule.scope != WILDCARD:
        validate_agency("scope", rule.scope)
    for field, allowed in _CLOSED_LISTS.items():
        value = getattr(rule, field)
        if not isinstance(value, str) or value not in allowed:
            raise PolicyValidationError(field, value, f"must be one of {', '.join(allowed)}")
    if rule.condition == "break_glass" and rule.purpose not in ("emergency", WILDCARD):
        raise PolicyValidationError(
            "purpose", rule.purpose, "a break_glass rule applies only to purpose 'emergency'"
        )
    if rule.effect == "allow":
        _check_allow(rule)
    return rule


def _check_allow(rule: Rule) -> None:
    """Refuse the allows that would bypass Part 2 consent or the owning agency.

    * Program-wide rules (scope ``*``) are guard rails: deny only. Only the
      owning agency's rules open its data, so an allow there would open every
      agency's data without the agency.
    * An allow for a consent-required category (substance use), or for ``*``
      which includes it, must need the subject's consent by construction: a
      condition of :data:`~policy.conditions.CONSENT_REQUIRING_CONDITIONS`, or
      ``break_glass`` with purpose ``emergency`` exactly.
    """
    if rule.scope == WILDCARD:
        raise PolicyValidationError(
            "effect", rule.effect, "a program-wide rule (scope '*') is a guard rail: deny only"
        )
    if rule.category not in (*CONSENT_REQUIRED_CATEGORIES, WILDCARD):
        return
    what = rule.category if rule.category != WILDCARD else "category '*' (includes substance_use)"
    if rule.condition == "break_glass":
        if rule.purpose != "emergency":
            raise PolicyValidationError(
                "purpose", rule.purpose, f"a break_glass allow for {what} needs purpose 'emergency'"
            )
        return
    if rule.condition not in CONSENT_REQUIRING_CONDITIONS:
        needed = ", ".join(sorted(CONSENT_REQUIRING_CONDITIONS))
        raise PolicyValidationError(
            "condition",
            rule.condition,
            f"an allow for {what} needs the subject's consent (42 CFR Part 2): "
            f"one of {needed}, or break_glass for purpose 'emergency'",
        )


def rule_from_fields(fields: Sequence[object]) -> Rule:
    """A validated rule from a stored row of exactly six fields.

    A seventh field is refused, never dropped: the SQLAlchemy Casbin adapter
    would silently lose it, and a rule whose condition or effect vanished could
    grant what its author meant to restrict.
    """
    if isinstance(fields, str | bytes) or len(fields) != len(RULE_FIELDS):
        size = len(fields) if not isinstance(fields, str | bytes) else 1
        raise PolicyValidationError(
            "fields", size, f"a rule has exactly {len(RULE_FIELDS)} fields: {RULE_FIELDS}"
        )
    values = [_field_text(name, value) for name, value in zip(RULE_FIELDS, fields, strict=True)]
    return validate_rule(Rule(*values))


def _field_text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise PolicyValidationError(name, value, "must be text")
    return value


def validate_sharing(pair: object) -> SharingPair:
    """An ``(owner, recipient)`` opt-in of two different agencies."""
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise PolicyValidationError("sharing", pair, "an opt-in is (owner, recipient)")
    owner = validate_agency("owner", pair[0])
    recipient = validate_agency("recipient", pair[1])
    if owner == recipient:
        raise PolicyValidationError("recipient", recipient, "an agency always sees its own data")
    return (owner, recipient)


def validate_version(version: object) -> str:
    """A version label: 1–64 printable characters without whitespace."""
    if (
        not isinstance(version, str)
        or not 0 < len(version) <= 64
        or not version.isprintable()
        or any(c.isspace() for c in version)
    ):
        raise PolicyValidationError("version", version, "1-64 printable characters, no spaces")
    return version


def validate_policy_set(
    rules: Iterable[Rule], sharing: Iterable[object], version: object
) -> PolicySet:
    """A validated :class:`PolicySet`; errors name ``rules[i].field`` or ``sharing[i]``.

    Duplicate rules are refused (a duplicate hides an editing mistake); so are
    duplicate opt-ins.
    """
    checked: list[Rule] = []
    seen: set[Rule] = set()
    for i, rule in enumerate(rules):
        if not isinstance(rule, Rule):
            raise PolicyValidationError(f"rules[{i}]", type(rule).__name__, "not a Rule")
        try:
            validate_rule(rule)
        except PolicyValidationError as exc:
            raise exc.under(f"rules[{i}]") from None
        if rule in seen:
            raise PolicyValidationError(f"rules[{i}]", rule.to_fields(), "duplicate rule")
        seen.add(rule)
        checked.append(rule)
    pairs: set[SharingPair] = set()
    for i, pair in enumerate(sharing):
        try:
            valid = validate_sharing(pair)
        except PolicyValidationError as exc:
            raise exc.under(f"sharing[{i}]") from None
        if valid in pairs:
            raise PolicyValidationError(f"sharing[{i}]", valid, "duplicate opt-in")
        pairs.add(valid)
    return PolicySet(tuple(checked), frozenset(pairs), validate_version(version))


def check_rule_authority(rule: Rule, editor_role: str, editor_agency: str) -> None:
    """Refuse an edit outside the editor's scope.

    An agency's ``privacy_officer`` writes rules for that agency's data only; the
    ``program_privacy_officer`` writes program-wide guard rails (scope ``*``) and
    the rules for the program office's own data. Nobody else writes rules.
    """
    if editor_role == "privacy_officer" and rule.scope == editor_agency:
        return
    if editor_role == "program_privacy_officer" and rule.scope in (WILDCARD, editor_agency):
        return
    raise PolicyAuthorityError(
        f"a {editor_role} of {editor_agency} may not write rules of scope {rule.scope!r}"
    )


def check_sharing_authority(pair: SharingPair, editor_role: str, editor_agency: str) -> None:
    """Only the owning agency's privacy officer opts its data in to (or out of) sharing."""
    if editor_role == "privacy_officer" and pair[0] == editor_agency:
        return
    raise PolicyAuthorityError(
        f"a {editor_role} of {editor_agency} may not change sharing by {pair[0]!r}"
    )
