"""The closed, vetted list of rule conditions.

A rule's ``condition`` names one entry of :data:`CONDITIONS`; the Casbin matcher
calls :func:`condition_holds` with that name and the request's
:class:`ConditionContext`. Nothing a user writes is ever evaluated as code: a
name outside the list is refused when the rule is validated, and if one reached
a decision anyway it would raise, and the decision would be a ``policy_error``
deny.

Each condition declares which request attributes it reads (``reads``). The
what-if sweep relies on that to skip attribute values that cannot change a
decision; a property test checks every declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from policy.errors import PolicyEvaluationError
from policy.vocabulary import CONSENT_REQUIRED_CATEGORIES

__all__ = [
    "ATTRIBUTES",
    "CONDITIONS",
    "CONSENT_REQUIRING_CONDITIONS",
    "Condition",
    "ConditionContext",
    "condition_holds",
]

#: The request attributes a caller supplies besides role, agencies, category, purpose.
ATTRIBUTES: tuple[str, ...] = ("consent", "break_glass", "cjis_authorized")


@dataclass(frozen=True, slots=True)
class ConditionContext:
    """What a condition may look at: the request attributes and two facts derived from it.

    Attributes:
        consent: ``granted``, ``revoked``, ``none`` or ``expired`` for this
            owner, requester, category and purpose.
        break_glass: an unexpired break-glass grant covers this request.
        cjis_authorized: the requester holds CJIS authorisation (vetted and trained).
        same_agency: the requester belongs to the agency that owns the data.
        purpose: the stated purpose of use.
        category: the data category asked for.
    """

    consent: str
    break_glass: bool
    cjis_authorized: bool
    same_agency: bool
    purpose: str
    category: str


@dataclass(frozen=True, slots=True)
class Condition:
    """One vetted condition: its name, what it means, what it reads, how it is tested."""

    name: str
    meaning: str
    reads: frozenset[str]
    test: Callable[[ConditionContext], bool]


def _consent_granted_or_not_required(ctx: ConditionContext) -> bool:
    if ctx.consent == "granted":
        return True
    return ctx.category not in CONSENT_REQUIRED_CATEGORIES and ctx.consent in ("none", "expired")


_ALL: tuple[Condition, ...] = (
    Condition(
        "always",
        "Holds for every request the rest of the rule matches.",
        frozenset(),
        lambda ctx: True,
    ),
    Condition(
        "consent_granted",
        "The subject's consent covering this owner, requester, category and purpose is "
        "active and within its period.",
        frozenset({"consent"}),
        lambda ctx: ctx.consent == "granted",
    ),
    Condition(
        "consent_granted_or_not_required",
        "Consent is granted; or the category is not one that law allows only with consent "
        "(substance use, 42 CFR Part 2) and the subject has not revoked or refused consent "
        "(no consent on file, or one that has expired).",
        frozenset({"consent"}),
        _consent_granted_or_not_required,
    ),
    Condition(
        "break_glass",
        "An unexpired break-glass grant covers the request and the purpose is 'emergency'.",
        frozenset({"break_glass"}),
        lambda ctx: ctx.break_glass and ctx.purpose == "emergency",
    ),
    Condition(
        "cjis_authorized",
        "The requester holds CJIS authorisation (criminal justice information).",
        frozenset({"cjis_authorized"}),
        lambda ctx: ctx.cjis_authorized,
    ),
    Condition(
        "same_agency",
        "The requester belongs to the agency that owns the data.",
        frozenset(),
        lambda ctx: ctx.same_agency,
    ),
)

#: Every condition a rule may name, by name.
CONDITIONS: Mapping[str, Condition] = MappingProxyType({c.name: c for c in _ALL})

#: The conditions that, for a category law lets no one disclose without consent
#: (:data:`~policy.vocabulary.CONSENT_REQUIRED_CATEGORIES`: substance use, 42 CFR
#: Part 2), hold **only when the subject's consent is granted**: ``consent_granted``
#: by definition, and ``consent_granted_or_not_required`` because for such a
#: category its "not required" branch never applies. An allow rule for substance
#: use (or for ``*``, which includes it) must name one of these, or ``break_glass``
#: with purpose ``emergency`` (a medical emergency, 42 CFR § 2.51: an unexpired
#: grant, flagged for review). ``always``, ``cjis_authorized`` and ``same_agency``
#: hold without any consent, so they are refused there by
#: :func:`policy.validation.validate_rule` — ``same_agency`` too: the engine cannot
#: tell a Part 2 program's treating staff from the rest of its agency. A property
#: test checks that this set is exactly the conditions that need granted consent.
CONSENT_REQUIRING_CONDITIONS: frozenset[str] = frozenset(
    {"consent_granted", "consent_granted_or_not_required"}
)


def condition_holds(name: str, ctx: object) -> bool:
    """Whether the vetted condition ``name`` holds for ``ctx`` (called by the Casbin matcher).

    Raises:
        PolicyEvaluationError: the name is not vetted, or ``ctx`` is not a
            :class:`ConditionContext` — the decision becomes a deny.
    """
    condition = CONDITIONS.get(name)
    if condition is None:
        raise PolicyEvaluationError("a rule names a condition outside the vetted list")
    if not isinstance(ctx, ConditionContext):
        raise PolicyEvaluationError("the request carries no condition context")
    return bool(condition.test(ctx))
