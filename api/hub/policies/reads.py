"""Reading the privacy-officer workflow's state: versions, diffs, what-if and explain.

Drafts are read by whoever may edit their scope, published versions by every
policy reader (:func:`may_read`); another scope's draft is answered as absent,
and the refusal audited. What-if and explain ask a version combined with every
other scope in force (:func:`combined_with`) — the policy publishing it would
make. Each read answers with its :mod:`api.schemas.policies` model; the writes
(drafts, publish, rollback, import) are in :mod:`api.hub.policies.admin`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session

from api.db import session_scope
from api.errors import NotFound
from api.hub.audit import EventKind, RequestContext, record_alone
from api.hub.identity.service import Principal
from api.hub.policies.service import ActivePolicy, PolicyService
from api.hub.policies.store import (
    PROGRAM_SCOPE,
    PublishedPolicy,
    StoredVersion,
    list_versions,
    load_version,
    published_policy,
    version_label,
)
from api.schemas.policies import (
    DecisionPublic,
    ExplainPublic,
    PolicyDiffPublic,
    PublishedPolicyPublic,
    RuleInForcePublic,
    RulePublic,
    SharingPublic,
    VersionListPublic,
    VersionPublic,
    VersionSummaryPublic,
    WhatIfChangePublic,
    WhatIfPublic,
    WhatIfSummaryPublic,
)
from policy.enforcer import Decision, PolicyEngine, Request
from policy.errors import PolicyAuthorityError, PolicyValidationError
from policy.rules import RULE_FIELDS, PolicySet, Rule, SharingPair, diff_policies
from policy.validation import check_rule_authority, validate_agency
from policy.vocabulary import CATEGORIES, CONSENT_STATES, PURPOSES, ROLES
from policy.whatif import Change, what_if

__all__ = [
    "combined_with",
    "decision_public",
    "diff",
    "explain",
    "may_read",
    "published_public",
    "readable_version",
    "readable_versions",
    "rule_in_force",
    "rule_public",
    "scope_label",
    "version_list",
    "version_public",
    "version_summary",
    "what_if_version",
]


def scope_label(scope: str) -> str:
    """A scope as an audit id (``*`` is not one)."""
    return "program_wide" if scope == PROGRAM_SCOPE else scope


def combined_with(published: PublishedPolicy, version: StoredVersion) -> PolicySet:
    """The policy in force with ``version``'s scope replaced by ``version``."""
    scope = version.scope
    rules = [r for r in published.policy.rules if r.scope != scope] + list(version.rules)
    sharing = {p for p in published.policy.sharing if p[0] != scope} | set(version.sharing)
    return PolicySet(tuple(rules), frozenset(sharing), f"draft-{version.id}")


def rule_public(rule: Rule) -> RulePublic:
    """A rule's six fields and its reading."""
    return RulePublic(**_rule_fields(rule))


def rule_in_force(rule: Rule, active: ActivePolicy) -> RuleInForcePublic:
    """A rule of ``active`` (the policy in force), with the id audit events name it by."""
    return RuleInForcePublic(**_rule_fields(rule), id=active.rule_id(rule))


def _rule_fields(rule: Rule) -> dict[str, str]:
    return {**dict(zip(RULE_FIELDS, rule.to_fields(), strict=True)), "text": rule.describe()}


def decision_public(decision: Decision, active: ActivePolicy | None) -> DecisionPublic:
    """A decision, its rules with ids when ``active`` (the policy in force) decided."""
    return DecisionPublic(
        allowed=decision.allowed,
        reason=decision.reason,
        rule=_rule_or_none(decision.rule, active),
        would_allow=_rule_or_none(decision.would_allow, active),
        explanation=decision.explain(),
    )


def _rule_or_none(rule: Rule | None, active: ActivePolicy | None) -> RulePublic | None:
    if rule is None:
        return None
    return rule_public(rule) if active is None else rule_in_force(rule, active)


def _sharing(pairs: Iterable[SharingPair]) -> list[SharingPublic]:
    return [SharingPublic(owner=owner, recipient=recipient) for owner, recipient in pairs]


def published_public(current: PublishedPolicy, active: ActivePolicy) -> PublishedPolicyPublic:
    """The policy in force as read now, its rule ids those of this process's loaded policy."""
    return PublishedPolicyPublic(
        policy_version=current.policy.version,
        loaded=active.version,
        versions=dict(current.versions),
        rules=[rule_in_force(r, active) for r in current.policy.rules],
        sharing=_sharing(sorted(current.policy.sharing)),
    )


def _meta(version: StoredVersion) -> dict[str, Any]:
    """The keyword arguments of :class:`~api.schemas.policies.VersionMetaPublic`."""
    seq, when = version.published_seq, version.published_at
    return {
        "id": version.id,
        "scope": version.scope,
        "author": version.author,
        "note": version.note,
        "created_at": version.created_at.isoformat(),
        "published": version.published,
        "published_as": version_label(seq) if seq else None,
        "published_at": when.isoformat() if when else None,
    }


def _shares_with(version: StoredVersion) -> list[str]:
    return sorted(recipient for _, recipient in version.sharing)


def version_summary(version: StoredVersion) -> VersionSummaryPublic:
    """A version's metadata for a listing (no rules)."""
    return VersionSummaryPublic(
        **_meta(version), rules=len(version.rules), shares_with=_shares_with(version)
    )


def version_public(version: StoredVersion) -> VersionPublic:
    """A version with its rules (no ids of the policy in force: it may not be in force)."""
    return VersionPublic(
        **_meta(version),
        rules=[rule_public(r) for r in version.rules],
        shares_with=_shares_with(version),
        rule_ids=list(version.rule_ids),
    )


def may_read(user: Principal, version: StoredVersion) -> bool:
    """Whether ``user`` may read ``version``: any published one; a draft only of a scope they edit.

    Reading a draft takes the authority that editing its scope takes
    (:func:`policy.validation.check_rule_authority`): an agency's privacy officer
    reads its own agency's drafts, the program privacy officer the program-wide
    ones; auditors read what was published.
    """
    if version.published:
        return True
    try:
        check_rule_authority(
            Rule(version.scope, "*", "*", "*", "always", "deny"), user.role.value, user.agency
        )
    except PolicyAuthorityError:
        return False
    return True


def readable_versions(
    session: Session, user: Principal, scope: str | None = None
) -> list[StoredVersion]:
    """Every version (of ``scope``) ``user`` may read, newest first; others' drafts left out."""
    return [v for v in list_versions(session, scope) if may_read(user, v)]


def version_list(session: Session, user: Principal, scope: str | None = None) -> VersionListPublic:
    """:func:`readable_versions` as the listing answers it."""
    return VersionListPublic(
        versions=[version_summary(v) for v in readable_versions(session, user, scope)]
    )


def readable_version(
    service: PolicyService, session: Session, user: Principal, context: RequestContext,
    version_id: int,
) -> StoredVersion:  # fmt: skip
    """One version; a draft ``user`` may not read is answered as absent (and audited)."""
    version = load_version(session, version_id)
    if not may_read(user, version):
        record_alone(
            service.db, EventKind.ACCESS_DENIED, actor=user, context=context, decision="deny",
            rule="policy_scope",
            details={"operation": "policy_read", "scope": scope_label(version.scope),
                     "version_id": version.id},
        )  # fmt: skip
        raise NotFound("no such policy version")
    return version


def diff(
    service: PolicyService, session: Session, user: Principal, context: RequestContext,
    from_version: int, to_version: int,
) -> PolicyDiffPublic:  # fmt: skip
    """Rules and opt-ins added and removed from one readable version to another."""
    old, new = (
        readable_version(service, session, user, context, version_id)
        for version_id in (from_version, to_version)
    )
    change = diff_policies(old.policy_set(), new.policy_set())
    return PolicyDiffPublic(
        from_version=from_version,
        to_version=to_version,
        added_rules=[rule_public(r) for r in change.added_rules],
        removed_rules=[rule_public(r) for r in change.removed_rules],
        added_sharing=_sharing(change.added_sharing),
        removed_sharing=_sharing(change.removed_sharing),
    )


def _draft_engine(
    service: PolicyService, user: Principal, context: RequestContext, version_id: int
) -> PolicyEngine:
    with session_scope(service.db) as session:
        version = readable_version(service, session, user, context, version_id)
        combined = combined_with(published_policy(session), version)
    return PolicyEngine.from_policy_set(combined)


def what_if_version(
    service: PolicyService, user: Principal, context: RequestContext, version_id: int, limit: int
) -> WhatIfPublic:
    """Every decision the version would change against the policy in force."""
    active = service.active
    draft = _draft_engine(service, user, context, version_id)
    report = what_if(active.engine, draft)
    summary = [
        WhatIfSummaryPublic(owner=o, category=c, before=b, after=a, count=n)
        for (o, c, b, a), n in sorted(report.summary().items())
    ]
    return WhatIfPublic(
        version_id=version_id,
        against=active.version,
        combinations=report.combinations,
        evaluated=report.evaluated,
        changed=len(report.changes),
        truncated=len(report.changes) > limit,
        summary=summary,
        changes=_changes(report.changes[:limit], active),
    )


def _changes(changes: Iterable[Change], active: ActivePolicy) -> list[WhatIfChangePublic]:
    """Changed requests; a decision shared by many (one sweep spreads it) is converted once.

    Up to 100 000 of them: the conversions are memoised by the decision
    object's identity (the sweep hands the same object to every request it
    spreads a decision to), which is cheaper than hashing a decision and its rules.
    """
    memo: dict[tuple[int, bool], DecisionPublic] = {}

    def converted(decision: Decision, in_force: bool) -> DecisionPublic:
        found = memo.get((id(decision), in_force))
        if found is None:
            found = decision_public(decision, active if in_force else None)
            memo[id(decision), in_force] = found
        return found

    out = []
    for c in changes:
        request, attributes = c.request, c.request.attributes
        out.append(
            WhatIfChangePublic(
                role=request.role,
                agency=request.agency,
                owner=request.owner,
                category=request.category,
                purpose=request.purpose,
                consent=str(attributes["consent"]),
                break_glass=bool(attributes["break_glass"]),
                cjis_authorized=bool(attributes["cjis_authorized"]),
                before=converted(c.before, True),
                after=converted(c.after, False),
            )
        )
    return out


def explain(
    service: PolicyService, user: Principal, context: RequestContext, query: Mapping[str, Any],
    version_id: int | None = None,
) -> ExplainPublic:  # fmt: skip
    """The decision for one request, and the rule that decided it (in force, or a version)."""
    for name, allowed in (
        ("role", ROLES), ("category", CATEGORIES), ("purpose", PURPOSES),
        ("consent", CONSENT_STATES),
    ):  # fmt: skip
        if query[name] not in allowed:
            raise PolicyValidationError(name, query[name], f"must be one of {', '.join(allowed)}")
    validate_agency("agency", query["agency"])
    validate_agency("owner", query["owner"])
    active = service.active if version_id is None else None
    engine = (
        active.engine
        if active is not None
        else _draft_engine(service, user, context, version_id or 0)
    )
    request = Request.of(
        query["role"], query["agency"], query["owner"], query["category"], query["purpose"],
        consent=query["consent"], break_glass=bool(query["break_glass"]),
        cjis_authorized=bool(query["cjis_authorized"]),
    )  # fmt: skip
    decision = decision_public(engine.decide(request), active)
    # dict(model) yields its fields as they are (nested rules stay models, unvalidated again).
    return ExplainPublic(policy_version=engine.version, **dict(decision))
