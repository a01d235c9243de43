"""The policy engine: one typed, fail-closed wrapper around Casbin.

:meth:`PolicyEngine.decide` answers one :class:`Request` — requester role and
agency, owning agency, category, purpose, attributes (consent state, break-glass,
CJIS) — with a :class:`Decision`: allowed or not, a reason code, and the rule
that decided. It never raises: a disabled enforcer, a missing or mistyped
attribute, an unknown role, category or purpose, or any exception inside
Casbin is a deny with reason ``policy_error``, logged without request values.

Reasons for a deny are found by asking Casbin again, never by a second
evaluator: after a plain default deny the engine asks whether the same request
would be allowed with consent granted (``consent_required`` /
``consent_revoked`` / ``consent_expired``), with break-glass for an emergency
(``break_glass_available``) or for another purpose (``purpose_not_permitted``).

Whatever the rules say, substance use (42 CFR Part 2) is never allowed without
granted consent except by a ``break_glass`` rule: any other such allow is
answered as a ``consent_*`` deny (validation refuses the rules that would need this).

An engine is immutable: one rule set, one version. Decisions (and Casbin's raw
answers) are memoised per request key — the requesting agency reduced to its
relation to the owner (same agency, opted in, not opted in); publishing a new version means
building a new engine and swapping it in, which is what invalidates the memo.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from policy.casbin_backend import CasbinPartitions, Row
from policy.conditions import ATTRIBUTES, ConditionContext
from policy.errors import PolicyEvaluationError, PolicyValidationError
from policy.rules import PolicySet, Rule, SharingPair
from policy.validation import validate_agency, validate_policy_set
from policy.vocabulary import (
    CATEGORIES,
    CONSENT_REQUIRED_CATEGORIES,
    CONSENT_STATES,
    PURPOSES,
    RESPONDER_ROLES,
    ROLES,
)

__all__ = ["REASONS", "Decision", "PolicyEngine", "Request"]

logger = logging.getLogger(__name__)

#: Every reason code a decision can carry.
REASONS: tuple[str, ...] = (
    "allowed",
    "denied_by_rule",
    "no_sharing_agreement",
    "consent_required",
    "consent_revoked",
    "consent_expired",
    "break_glass_available",
    "purpose_not_permitted",
    "default_deny",
    "policy_error",
)

_MEMO_LIMIT = 262_144  # entries; the whole request space of a county fits, a flood does not
_CONSENT_REASON = {
    "none": "consent_required",
    "revoked": "consent_revoked",
    "expired": "consent_expired",
}

# role, agency, owner, category, purpose, consent, break_glass, cjis_authorized
_Key = tuple[str, str, str, str, str, str, bool, bool]


@dataclass(frozen=True, slots=True)
class Request:
    """One access question. Build with :meth:`of` unless the attributes arrive as data.

    Attributes:
        role: the requester's role.
        agency: the requester's agency.
        owner: the agency that holds the data.
        category: the data category.
        purpose: the stated purpose of use.
        attributes: exactly ``consent`` (a consent state), ``break_glass`` and
            ``cjis_authorized`` (booleans); anything missing or extra is a
            ``policy_error``.
    """

    role: str
    agency: str
    owner: str
    category: str
    purpose: str
    attributes: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        role: str,
        agency: str,
        owner: str,
        category: str,
        purpose: str,
        *,
        consent: str = "none",
        break_glass: bool = False,
        cjis_authorized: bool = False,
    ) -> Request:
        """A request with typed attributes (the defaults are the least-privileged values)."""
        attributes = {
            "consent": consent,
            "break_glass": break_glass,
            "cjis_authorized": cjis_authorized,
        }
        return cls(role, agency, owner, category, purpose, MappingProxyType(attributes))


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to a request.

    Attributes:
        allowed: whether the category may be disclosed.
        reason: one of :data:`REASONS`.
        rule: the rule that decided (the matching allow, or the overriding deny);
            ``None`` when no rule matched.
        would_allow: for ``consent_*``, ``break_glass_available`` and
            ``purpose_not_permitted``, the rule that would allow once that changes.
    """

    allowed: bool
    reason: str
    rule: Rule | None = None
    would_allow: Rule | None = None

    def explain(self) -> str:
        """A one-line account of the decision, naming the deciding rule."""
        if self.rule is not None:
            return f"{self.reason}: {self.rule.describe()}"
        if self.would_allow is not None:
            return f"{self.reason}: would be allowed by {self.would_allow.describe()}"
        return f"{self.reason}: no rule allows this request"


_POLICY_ERROR = Decision(False, "policy_error")


class PolicyEngine:
    """Decisions for one published (or draft) rule set; immutable and thread-safe."""

    def __init__(self, policy: PolicySet | None, partitions: CasbinPartitions | None) -> None:
        """Use :meth:`from_rules`, :meth:`from_policy_set` or :meth:`unavailable`."""
        self._policy = policy
        self._partitions = partitions
        self._memo: dict[_Key, Decision] = {}
        self._raw: dict[_Key, tuple[bool, Row | None]] = {}

    @classmethod
    def from_rules(
        cls, rules: Sequence[Rule], sharing: Iterable[SharingPair], version: str
    ) -> PolicyEngine:
        """An engine for validated ``rules`` and ``sharing``.

        Raises:
            PolicyValidationError: a rule or opt-in is outside the closed lists.
        """
        return cls.from_policy_set(validate_policy_set(rules, sharing, version))

    @classmethod
    def from_policy_set(cls, policy: PolicySet) -> PolicyEngine:
        """An engine for a policy set (validated again: sets can be built by hand)."""
        checked = validate_policy_set(policy.rules, policy.sharing, policy.version)
        return cls(checked, CasbinPartitions(checked.rules, checked.sharing))

    @classmethod
    def load_or_deny(
        cls, rules: Sequence[Rule], sharing: Iterable[SharingPair], version: str
    ) -> PolicyEngine:
        """Like :meth:`from_rules`, but a bad rule set yields an engine that denies everything.

        For loading stored rules at start-up or on reload: skipping one bad rule
        could drop a deny, so the whole set is refused and every decision is a
        ``policy_error`` until a valid set is published.
        """
        try:
            return cls.from_rules(rules, sharing, version)
        except Exception as exc:
            where = exc.field if isinstance(exc, PolicyValidationError) else ""
            logger.error("policy %s not loaded: %s %s", version, type(exc).__name__, where)
            return cls.unavailable(version)

    @classmethod
    def unavailable(cls, version: str = "unavailable") -> PolicyEngine:
        """An engine that denies every request with ``policy_error``."""
        return cls(PolicySet((), frozenset(), version), None)

    @property
    def version(self) -> str:
        """The version label of the rule set."""
        return self._policy.version if self._policy else "unavailable"

    @property
    def policy(self) -> PolicySet | None:
        """The rule set, or ``None`` for an unavailable engine."""
        return self._policy if self._partitions is not None else None

    @property
    def agencies(self) -> frozenset[str]:
        """Agencies the rule set names: rule scopes and both sides of every opt-in."""
        if self._partitions is None or self._policy is None:
            return frozenset()
        pairs = {agency for pair in self._policy.sharing for agency in pair}
        return self._partitions.owners | pairs

    def shares(self, owner: str, agency: str) -> bool:
        """Whether ``owner``'s data may reach ``agency`` (same agency, or an opt-in)."""
        return self._partitions is not None and self._partitions.shares(owner, agency)

    def partition_rows(self, owner: str, category: str, role: str) -> tuple[Row, ...]:
        """The Casbin rows that can decide a request of this owner, category and role."""
        return self._partitions.rows(owner, category, role) if self._partitions else ()

    def warm(self, roles: Iterable[str] = RESPONDER_ROLES) -> int:
        """Build the Casbin partitions of ``roles`` ahead of traffic; returns how many exist.

        Partitions are otherwise built on first use (~0.3 ms each), which would
        slow the first subject views after a reload. Call it on the new engine
        before swapping it in.
        """
        return self._partitions.build(roles) if self._partitions is not None else 0

    def decide(self, request: Request) -> Decision:
        """Decide ``request``; never raises (any failure is a ``policy_error`` deny)."""
        try:
            key = _request_key(request)
            memo_key = self._memo_key(key)
            decision = self._memo.get(memo_key)
            if decision is None:
                decision = self._decide(key)
                if len(self._memo) >= _MEMO_LIMIT:
                    self._memo.clear()
                self._memo[memo_key] = decision
            return decision
        except Exception as exc:  # fail closed: whatever went wrong, deny
            where = exc.field if isinstance(exc, PolicyValidationError) else ""
            logger.error(
                "policy decision failed closed: %s %s (policy %s)",
                type(exc).__name__,
                where,
                self.version,
            )
            return _POLICY_ERROR

    def _decide(self, key: _Key) -> Decision:
        _, agency, owner, _, purpose, consent, break_glass, cjis = key
        allowed, row = self._evaluate(key)
        if allowed and _needs_consent(key, row):
            # Validation refuses such an allow; one that got in anyway still releases nothing.
            logger.warning("policy %s: an allow without consent for Part 2 data refused",
                           self.version)  # fmt: skip
            allowed, row = False, None  # the search below names the consent it needs
        if allowed:
            return Decision(True, "allowed", _rule(row))
        if row is not None:
            return Decision(False, "denied_by_rule", _rule(row))
        if not self.shares(owner, agency):
            return Decision(False, "no_sharing_agreement")
        if consent != "granted":
            allowed, row = self._evaluate((*key[:5], "granted", break_glass, cjis))
            if allowed:
                return Decision(False, _CONSENT_REASON[consent], would_allow=_rule(row))
        if not (break_glass and purpose == "emergency"):
            allowed, row = self._evaluate((*key[:4], "emergency", consent, True, cjis))
            if allowed:
                return Decision(False, "break_glass_available", would_allow=_rule(row))
        for other in PURPOSES:
            if other != purpose:
                changed: _Key = (*key[:4], other, consent, break_glass, cjis)
                allowed, row = self._evaluate(changed)
                if allowed and not _needs_consent(changed, row):
                    return Decision(False, "purpose_not_permitted", would_allow=_rule(row))
        return Decision(False, "default_deny")

    def _evaluate(self, key: _Key) -> tuple[bool, Row | None]:
        """Casbin's raw answer for a full key, memoised (counterfactuals reuse it)."""
        memo_key = self._memo_key(key)
        answer = self._raw.get(memo_key)
        if answer is None:
            if self._partitions is None:
                raise PolicyEvaluationError("no policy is loaded")
            role, agency, owner, category, purpose, consent, break_glass, cjis = key
            ctx = ConditionContext(consent, break_glass, cjis, owner == agency, purpose, category)
            answer = self._partitions.evaluate((role, agency, owner, category, purpose), ctx)
            if len(self._raw) >= _MEMO_LIMIT:
                self._raw.clear()
            self._raw[memo_key] = answer
        return answer

    def _memo_key(self, key: _Key) -> _Key:
        """``key`` with the requesting agency replaced by its relation to the owner.

        The model reads the requesting agency only through ``shared()`` (checked
        when it is loaded) and conditions only through ``same_agency``: two
        agencies with the same relation get the same answer, so they share memo
        entries, and a requester's first view reuses what others' views computed.
        """
        role, agency, owner = key[:3]
        relation = "=" if agency == owner else "+" if self.shares(owner, agency) else "-"
        return (role, relation, *key[2:])


def _needs_consent(key: _Key, row: Row | None) -> bool:
    """Whether the allow ``row`` would release a consent-required category without consent.

    Substance use (42 CFR Part 2) is released only with the subject's consent
    granted, or by a ``break_glass`` rule (which holds only under an unexpired
    grant for purpose ``emergency``) — whatever other rules say. Validation
    refuses any allow that would do otherwise
    (:func:`policy.validation.validate_rule`), so for a validated set this never
    changes a decision; it holds for rules that reached an engine some other way.
    """
    _, _, _, category, _, consent, _, _ = key
    if category not in CONSENT_REQUIRED_CATEGORIES or consent == "granted":
        return False
    return row is None or len(row) != 6 or row[4] != "break_glass"


def _rule(row: Row | None) -> Rule:
    if row is None or len(row) != 6:
        raise PolicyEvaluationError("a decision without its rule")
    return Rule(*row)


def _request_key(request: Request) -> _Key:
    """The validated memo key of a request; raises on anything outside the closed lists."""
    if not isinstance(request, Request):
        raise PolicyValidationError("request", type(request).__name__, "not a Request")
    for name, allowed in (("role", ROLES), ("category", CATEGORIES), ("purpose", PURPOSES)):
        value = getattr(request, name)
        if not isinstance(value, str) or value not in allowed:
            raise PolicyValidationError(name, value, "not in the closed list")
    validate_agency("agency", request.agency)
    validate_agency("owner", request.owner)
    attributes = request.attributes
    if not isinstance(attributes, Mapping) or set(attributes) != set(ATTRIBUTES):
        raise PolicyValidationError("attributes", None, f"exactly {ATTRIBUTES} are required")
    consent, break_glass, cjis = (attributes[name] for name in ATTRIBUTES)
    if not isinstance(consent, str) or consent not in CONSENT_STATES:
        raise PolicyValidationError("attributes.consent", consent, "not a consent state")
    if not isinstance(break_glass, bool) or not isinstance(cjis, bool):
        raise PolicyValidationError("attributes", None, "break_glass and cjis_authorized: bool")
    return (
        request.role,
        request.agency,
        request.owner,
        request.category,
        request.purpose,
        consent,
        break_glass,
        cjis,
    )
