"""Rules, sharing opt-ins, policy sets and the difference between two of them.

A :class:`Rule` is one row of the Casbin policy: **six** fields — scope (the owning
agency, or ``*`` for a program-wide guard rail), role, category, purpose,
condition, effect. Six is deliberate: the SQLAlchemy Casbin adapter stores
``v0``…``v5`` and silently drops a seventh field, so a rule must never need one
(:func:`policy.validation.rule_from_fields` refuses any other length).

A sharing opt-in ``(owner, recipient)`` says the owning agency lets the
recipient agency's users be considered by its rules at all. Opt-ins are plain
pairs, **not transitive**: A→B and B→C never give A→C.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RULE_FIELDS", "PolicyDiff", "PolicySet", "Rule", "SharingPair", "diff_policies"]

#: The fields of a rule, in Casbin row order (``p = scope, role, category, purpose, …``).
RULE_FIELDS: tuple[str, ...] = ("scope", "role", "category", "purpose", "condition", "effect")

#: ``(owner agency, recipient agency)``: the owner opts in to share with the recipient.
SharingPair = tuple[str, str]


@dataclass(frozen=True, slots=True, order=True)
class Rule:
    """One access rule. Construct freely; validate with :func:`policy.validation.validate_rule`.

    Attributes:
        scope: the agency whose data the rule governs, or ``*`` (program-wide).
        role: a role from :data:`policy.vocabulary.ROLES`, or ``*``.
        category: a data category, or ``*``.
        purpose: a purpose of use, or ``*``.
        condition: a name from :data:`policy.conditions.CONDITIONS`.
        effect: ``allow`` or ``deny``; deny overrides allow.
    """

    scope: str
    role: str
    category: str
    purpose: str
    condition: str
    effect: str

    def to_fields(self) -> tuple[str, str, str, str, str, str]:
        """The Casbin row (and database row) of this rule: six strings."""
        return (self.scope, self.role, self.category, self.purpose, self.condition, self.effect)

    def describe(self) -> str:
        """A one-line human reading, for explain output and audit review."""
        who = "any role" if self.role == "*" else self.role
        what = "any category" if self.category == "*" else self.category
        why = "any purpose" if self.purpose == "*" else self.purpose
        whose = "program-wide" if self.scope == "*" else f"data of {self.scope}"
        when = "" if self.condition == "always" else f" when {self.condition}"
        return f"{self.effect} {who} to read {what} for {why}{when} ({whose})"


@dataclass(frozen=True, slots=True)
class PolicySet:
    """A whole rule set as published (or drafted): rules, sharing opt-ins, a version label."""

    rules: tuple[Rule, ...]
    sharing: frozenset[SharingPair]
    version: str


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    """What changes from one policy set to another (rules compare as whole rows)."""

    added_rules: tuple[Rule, ...]
    removed_rules: tuple[Rule, ...]
    added_sharing: tuple[SharingPair, ...]
    removed_sharing: tuple[SharingPair, ...]

    @property
    def is_empty(self) -> bool:
        """Whether the two sets are the same rules and opt-ins."""
        return not (
            self.added_rules or self.removed_rules or self.added_sharing or self.removed_sharing
        )


def diff_policies(old: PolicySet, new: PolicySet) -> PolicyDiff:
    """Rules and opt-ins present in only one of ``old`` and ``new``, each sorted.

    Order of rules does not matter to a decision (deny overrides allow whatever
    the order), so it does not count as a change.
    """
    old_rules, new_rules = set(old.rules), set(new.rules)
    return PolicyDiff(
        added_rules=tuple(sorted(new_rules - old_rules)),
        removed_rules=tuple(sorted(old_rules - new_rules)),
        added_sharing=tuple(sorted(new.sharing - old.sharing)),
        removed_sharing=tuple(sorted(old.sharing - new.sharing)),
    )
