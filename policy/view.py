"""The filtered view of one subject's context: what a requester may see, and why not the rest.

Two steps, so the service can audit before it answers:

1. :func:`decide_categories` asks the engine about every (agency, category) the
   subject has context in, with the consent state computed from the registry.
   The result holds **every** decision, concealed ones included: it is for the
   audit log, never for the response.
2. :func:`build_view` turns those decisions into the response's view: disclosed
   categories (each Part 2 one flagged to carry :data:`PART2_REDISCLOSURE_NOTICE`),
   withheld categories with their reason code, and nothing at all for a
   *conceal-existence* category that is withheld — by default substance use
   without granted consent, because under 42 CFR Part 2 even acknowledging that
   such a record exists is a disclosure. An agency that discloses nothing to the
   requester is absent too, so a view never reveals where the subject has
   records beyond the agencies that share with this requester.

The caller decides what "available" lists: the categories an agency holds for
the subject, or every category (so the listing itself reveals nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from policy.consent import Consent, Requester, consent_state
from policy.enforcer import Decision, PolicyEngine, Request
from policy.rules import Rule
from policy.vocabulary import CATEGORIES, CONSENT_REQUIRED_CATEGORIES

__all__ = [
    "PART2_CATEGORIES",
    "PART2_REDISCLOSURE_NOTICE",
    "AgencyView",
    "CategoryDecision",
    "Concealment",
    "Disclosed",
    "SubjectView",
    "Withheld",
    "build_view",
    "decide_categories",
    "subject_view",
]

#: Categories holding 42 CFR Part 2 records; disclosed, they carry the notice below.
PART2_CATEGORIES: frozenset[str] = frozenset({"substance_use"})

#: The written statement that must accompany a disclosure of Part 2 records
#: (42 CFR § 2.32(a)(1), as amended at 85 FR 43037, July 15, 2020). The 2024
#: final rule (89 FR 12472) rewords it; have counsel confirm the text in force.
PART2_REDISCLOSURE_NOTICE = (
    "This record which has been disclosed to you is protected by federal "
    "confidentiality rules (42 CFR part 2). The federal rules prohibit you from "
    "making any further disclosure of this record unless further disclosure is "
    "expressly permitted by the written consent of the individual whose "
    "information is being disclosed in this record or, is otherwise permitted by "
    "42 CFR part 2. A general authorization for the release of medical or other "
    "information is NOT sufficient for this purpose (see § 2.31). The federal "
    "rules restrict any use of the information to investigate or prosecute with "
    "regard to a crime any patient with a substance use disorder, except as "
    "provided at §§ 2.12(c)(5) and 2.65."
)


@dataclass(frozen=True, slots=True)
class Concealment:
    """Which withheld categories are left out of a view entirely.

    Attributes:
        categories: categories whose existence is concealed when withheld.
        reveal_when_consent_granted: with consent granted the subject has
            already let the requester know; a withheld category is then listed
            with its reason like any other.
    """

    categories: frozenset[str] = frozenset({"substance_use"})
    reveal_when_consent_granted: bool = True

    def hides(self, category: str, consent: str) -> bool:
        """Whether a *withheld* ``category`` with this consent state is left out."""
        if category not in self.categories:
            return False
        return not (self.reveal_when_consent_granted and consent == "granted")


@dataclass(frozen=True, slots=True)
class CategoryDecision:
    """The decision for one agency's category of one subject (for the audit log)."""

    owner: str
    category: str
    consent: str
    decision: Decision


@dataclass(frozen=True, slots=True)
class Disclosed:
    """A category the requester may read, with the rule that allowed it."""

    category: str
    rule: Rule
    redisclosure_notice: bool = False


@dataclass(frozen=True, slots=True)
class Withheld:
    """A category the requester may not read, and the reason code."""

    category: str
    reason: str


@dataclass(frozen=True, slots=True)
class AgencyView:
    """One agency's part of the view."""

    owner: str
    disclosed: tuple[Disclosed, ...] = ()
    withheld: tuple[Withheld, ...] = ()


@dataclass(frozen=True, slots=True)
class SubjectView:
    """The filtered view: per agency, disclosed and withheld categories; concealed ones absent."""

    agencies: tuple[AgencyView, ...] = field(default=())

    @property
    def disclosed(self) -> frozenset[tuple[str, str]]:
        """Every disclosed ``(owner, category)``."""
        return frozenset((a.owner, d.category) for a in self.agencies for d in a.disclosed)

    @property
    def withheld(self) -> frozenset[tuple[str, str]]:
        """Every listed withheld ``(owner, category)``."""
        return frozenset((a.owner, w.category) for a in self.agencies for w in a.withheld)

    @property
    def notices(self) -> tuple[str, ...]:
        """Notices the response must carry (the Part 2 statement when Part 2 data is in it)."""
        flagged = any(d.redisclosure_notice for a in self.agencies for d in a.disclosed)
        return (PART2_REDISCLOSURE_NOTICE,) if flagged else ()


def decide_categories(
    engine: PolicyEngine,
    requester: Requester,
    purpose: str,
    available: Mapping[str, Iterable[str]],
    consents: Sequence[Consent],
    now: datetime,
    *,
    break_glass: bool = False,
    cjis_authorized: bool = False,
) -> tuple[CategoryDecision, ...]:
    """Every (agency, category) decision for one subject, concealed ones included.

    Args:
        engine: the published policy.
        requester: the user's agency and role.
        purpose: the stated purpose of use.
        available: per owning agency, the categories to decide.
        consents: the subject's consents (those of its member records).
        now: the time of the request (timezone-aware), for consent periods.
        break_glass: an unexpired break-glass grant covers this subject.
        cjis_authorized: the user holds CJIS authorisation.
    """
    decisions = []
    for owner in sorted(available):
        held = set(available[owner])
        for category in [c for c in CATEGORIES if c in held] + sorted(held - set(CATEGORIES)):
            consent = consent_state(consents, owner, requester, category, purpose, now)
            request = Request.of(
                requester.role,
                requester.agency,
                owner,
                category,
                purpose,
                consent=consent,
                break_glass=break_glass,
                cjis_authorized=cjis_authorized,
            )
            decisions.append(CategoryDecision(owner, category, consent, engine.decide(request)))
    return tuple(decisions)


def build_view(
    decisions: Iterable[CategoryDecision], concealment: Concealment | None = None
) -> SubjectView:
    """The response view from ``decisions``: allowed, withheld with reasons, concealed absent.

    An agency that discloses nothing to this requester is left out entirely, its
    withheld categories too: listing it would tell the requester that the subject
    has a record there (a substance-use clinic, say) although the agency shares
    nothing with them. An allowed consent-required category without granted
    consent is withheld unless a ``break_glass`` rule allowed it (the engine
    already answers so; this holds for decisions from anywhere).
    """
    conceal = concealment if concealment is not None else Concealment()
    by_owner: dict[str, tuple[list[Disclosed], list[Withheld]]] = {}
    for item in decisions:
        disclosed, withheld = by_owner.setdefault(item.owner, ([], []))
        decision = item.decision
        if decision.allowed and decision.rule is not None and _lawful(item, decision.rule):
            notice = item.category in PART2_CATEGORIES
            disclosed.append(Disclosed(item.category, decision.rule, notice))
        elif not conceal.hides(item.category, item.consent):
            reason = "policy_error" if decision.allowed else decision.reason
            withheld.append(Withheld(item.category, reason))
    return SubjectView(
        tuple(
            AgencyView(owner, tuple(disclosed), tuple(withheld))
            for owner, (disclosed, withheld) in sorted(by_owner.items())
            if disclosed
        )
    )


def _lawful(item: CategoryDecision, rule: Rule) -> bool:
    """Consent-required data goes out only with consent granted or by a break-glass rule."""
    if item.category not in CONSENT_REQUIRED_CATEGORIES or item.consent == "granted":
        return True
    return rule.condition == "break_glass"


def subject_view(
    engine: PolicyEngine,
    requester: Requester,
    purpose: str,
    available: Mapping[str, Iterable[str]],
    consents: Sequence[Consent],
    now: datetime,
    *,
    break_glass: bool = False,
    cjis_authorized: bool = False,
    concealment: Concealment | None = None,
) -> SubjectView:
    """:func:`decide_categories` then :func:`build_view`, for callers that audit elsewhere."""
    decisions = decide_categories(
        engine,
        requester,
        purpose,
        available,
        consents,
        now,
        break_glass=break_glass,
        cjis_authorized=cjis_authorized,
    )
    return build_view(decisions, concealment)
