"""The privacy-officer workflow: drafts, publish, rollback, diff, what-if, explain, import.

Authority first, then validation, then the write with its audit event in one
transaction. An agency's ``privacy_officer`` edits only the scope of its own
agency (rules and sharing opt-ins); the ``program_privacy_officer`` edits the
program-wide scope ``*`` (:func:`policy.validation.check_rule_authority` and
:func:`~policy.validation.check_sharing_authority` decide, rule by rule). A
refused edit is an ``access.denied`` event of its own; a rule outside the closed
lists is a :class:`policy.PolicyValidationError` naming the field (→ 422).

Publishing a version (or a rollback, which publishes a copy of an old version)
checks that the combined policy — every other scope's version in force plus this
one — loads, bumps ``policy_state`` and reloads this process's engine after the
commit; other processes follow within their poll interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine

from api.db import session_scope
from api.errors import Conflict
from api.hub.audit import CLI_CONTEXT, EventKind, RequestContext, record, record_alone
from api.hub.identity.service import Principal
from api.hub.policies.service import ActivePolicy, PolicyService
from api.hub.policies.store import (
    PROGRAM_SCOPE,
    PublishedPolicy,
    StoredVersion,
    add_version,
    bump_state,
    load_version,
    mark_published,
    published_policy,
    version_label,
)
from policy.enforcer import Decision, PolicyEngine, Request
from policy.errors import PolicyAuthorityError, PolicyValidationError
from policy.policy_file import dump_policy, parse_policy
from policy.rules import RULE_FIELDS, PolicySet, Rule, SharingPair
from policy.validation import (
    check_rule_authority,
    check_sharing_authority,
    validate_agency,
    validate_policy_set,
    validate_rule,
)
from policy.vocabulary import CATEGORIES, CONSENT_STATES, PURPOSES, ROLES
from policy.whatif import what_if

__all__ = [
    "combined_with",
    "create_draft",
    "explain",
    "export_policy",
    "import_policy",
    "parse_draft",
    "policy_file",
    "publish",
    "rollback",
    "rule_json",
    "what_if_version",
]

_ENTRY_KEYS = RULE_FIELDS[1:]  # scope comes from the draft


def _scope_label(scope: str) -> str:
    """A scope as an audit id (``*`` is not one)."""
    return "program_wide" if scope == PROGRAM_SCOPE else scope


def parse_draft(
    scope: str, entries: Sequence[Mapping[str, Any]], shares_with: Sequence[Any]
) -> tuple[list[Rule], list[SharingPair]]:
    """Rules and opt-ins of a draft, validated; errors name ``rules[i].field``."""
    if scope != PROGRAM_SCOPE:
        validate_agency("scope", scope)
    elif shares_with:
        raise PolicyValidationError("shares_with", None, "program-wide rules share nothing")
    rules = []
    for i, entry in enumerate(entries):
        for key in entry:
            if key not in _ENTRY_KEYS:
                raise PolicyValidationError(f"rules[{i}].{key}", key, "unknown key")
        missing = [key for key in _ENTRY_KEYS if key not in entry]
        if missing:
            raise PolicyValidationError(f"rules[{i}].{missing[0]}", None, "required")
        rule = Rule(scope, *(entry[key] for key in _ENTRY_KEYS))
        try:
            rules.append(validate_rule(rule))
        except PolicyValidationError as exc:
            raise exc.under(f"rules[{i}]") from None
    sharing = [(scope, recipient) for recipient in shares_with]
    try:
        checked = validate_policy_set(rules, sharing, "draft")
    except PolicyValidationError as exc:
        raise PolicyValidationError(
            exc.field.replace("sharing", "shares_with"), exc.value, exc.problem
        ) from None
    return list(checked.rules), sorted(checked.sharing)


def _authorise(
    engine: Engine,
    user: Principal,
    context: RequestContext,
    scope: str,
    rules: Sequence[Rule] = (),
    sharing: Sequence[SharingPair] = (),
) -> None:
    """Refuse (and audit) an edit of ``scope`` outside the editor's authority."""
    role, agency = user.role.value, user.agency
    try:
        check_rule_authority(Rule(scope, "*", "*", "*", "always", "deny"), role, agency)
        for rule in rules:
            check_rule_authority(rule, role, agency)
        for pair in sharing:
            check_sharing_authority(pair, role, agency)
    except PolicyAuthorityError:
        record_alone(
            engine,
            EventKind.ACCESS_DENIED,
            actor=user,
            context=context,
            decision="deny",
            rule="policy_scope",
            details={"operation": "policy_edit", "scope": _scope_label(scope)},
        )
        raise


def create_draft(
    service: PolicyService,
    user: Principal,
    context: RequestContext,
    *,
    scope: str,
    note: str,
    entries: Sequence[Mapping[str, Any]],
    shares_with: Sequence[Any],
) -> StoredVersion:
    """Store a validated draft of ``scope`` (a ``policy.edit`` event)."""
    _authorise(service.db, user, context, scope)
    rules, sharing = parse_draft(scope, entries, shares_with)
    _authorise(service.db, user, context, scope, rules, sharing)
    with session_scope(service.db) as session:
        version_id = add_version(session, scope, user.username, note, rules, sharing)
        record(
            session,
            EventKind.POLICY_EDIT,
            actor=user,
            context=context,
            details={
                "action": "draft",
                "version_id": version_id,
                "scope": _scope_label(scope),
                "rules": len(rules),
            },
        )
        return load_version(session, version_id)


def combined_with(published: PublishedPolicy, version: StoredVersion) -> PolicySet:
    """The policy in force with ``version``'s scope replaced by ``version``."""
    scope = version.scope
    rules = [r for r in published.policy.rules if r.scope != scope] + list(version.rules)
    sharing = {p for p in published.policy.sharing if p[0] != scope} | set(version.sharing)
    return PolicySet(tuple(rules), frozenset(sharing), f"draft-{version.id}")


def _publish(
    session: Any, user: Principal | None, context: RequestContext, version: StoredVersion,
    action: str, **details: Any,
) -> str:  # fmt: skip
    """Check the combined policy loads, bump the state, stamp, audit; returns the label."""
    combined = combined_with(published_policy(session), version)
    PolicyEngine.from_rules(combined.rules, combined.sharing, combined.version)
    state = bump_state(session)
    mark_published(session, version.id, state)
    label = version_label(state)
    record(
        session,
        EventKind.POLICY_PUBLISH,
        actor=user,
        context=context,
        policy_version=label,
        details={
            "action": action,
            "version_id": version.id,
            "scope": _scope_label(version.scope),
            "rules": len(version.rules),
            **details,
        },
    )
    return label


def publish(
    service: PolicyService, user: Principal, context: RequestContext, version_id: int
) -> dict[str, Any]:
    """Publish a draft; this process uses it at once, the others within a poll interval."""
    with session_scope(service.db) as session:
        version = load_version(session, version_id)
        _authorise(service.db, user, context, version.scope, version.rules, version.sharing)
        if version.published:
            raise Conflict("this version is already published; roll back to publish it again")
        label = _publish(session, user, context, version, "publish")
    service.load()
    return {"version_id": version_id, "policy_version": label}


def rollback(
    service: PolicyService, user: Principal, context: RequestContext, version_id: int
) -> dict[str, Any]:
    """Publish a copy of an old version of its scope (a new version; history stays)."""
    with session_scope(service.db) as session:
        old = load_version(session, version_id)
        _authorise(service.db, user, context, old.scope, old.rules, old.sharing)
        note = f"rollback to version {old.id}"
        new_id = add_version(session, old.scope, user.username, note, old.rules, old.sharing)
        label = _publish(
            session, user, context, load_version(session, new_id), "rollback",
            rollback_of=old.id,
        )  # fmt: skip
    service.load()
    return {"version_id": new_id, "rollback_of": version_id, "policy_version": label}


def rule_json(rule: Rule | None, active: ActivePolicy | None = None) -> dict[str, Any] | None:
    """A rule as JSON: its fields, its reading and (when in force) its id."""
    if rule is None:
        return None
    out: dict[str, Any] = dict(zip(RULE_FIELDS, rule.to_fields(), strict=True))
    out["text"] = rule.describe()
    if active is not None:
        out["id"] = active.rule_id(rule)
    return out


def _decision_json(decision: Decision, active: ActivePolicy | None) -> dict[str, Any]:
    return {
        "allowed": decision.allowed,
        "reason": decision.reason,
        "rule": rule_json(decision.rule, active),
        "would_allow": rule_json(decision.would_allow, active),
        "explanation": decision.explain(),
    }


def _draft_engine(service: PolicyService, version_id: int) -> PolicyEngine:
    with session_scope(service.db) as session:
        version = load_version(session, version_id)
        combined = combined_with(published_policy(session), version)
    return PolicyEngine.from_policy_set(combined)


def what_if_version(service: PolicyService, version_id: int, limit: int) -> dict[str, Any]:
    """Every decision the version would change against the policy in force."""
    active = service.active
    draft = _draft_engine(service, version_id)
    report = what_if(active.engine, draft)
    changes = [
        {
            "role": c.request.role,
            "agency": c.request.agency,
            "owner": c.request.owner,
            "category": c.request.category,
            "purpose": c.request.purpose,
            **{name: value for name, value in c.request.attributes.items()},
            "before": _decision_json(c.before, active),
            "after": _decision_json(c.after, None),
        }
        for c in report.changes[:limit]
    ]
    summary = [
        {"owner": o, "category": c, "before": b, "after": a, "count": n}
        for (o, c, b, a), n in sorted(report.summary().items())
    ]
    return {
        "version_id": version_id,
        "against": active.version,
        "combinations": report.combinations,
        "evaluated": report.evaluated,
        "changed": len(report.changes),
        "truncated": len(report.changes) > limit,
        "summary": summary,
        "changes": changes,
    }


def explain(
    service: PolicyService, query: Mapping[str, Any], version_id: int | None = None
) -> dict[str, Any]:
    """The decision for one request, and the rule that decided it."""
    for name, allowed in (
        ("role", ROLES), ("category", CATEGORIES), ("purpose", PURPOSES),
        ("consent", CONSENT_STATES),
    ):  # fmt: skip
        if query[name] not in allowed:
            raise PolicyValidationError(name, query[name], f"must be one of {', '.join(allowed)}")
    validate_agency("agency", query["agency"])
    validate_agency("owner", query["owner"])
    active = service.active if version_id is None else None
    engine = active.engine if active is not None else _draft_engine(service, version_id or 0)
    request = Request.of(
        query["role"], query["agency"], query["owner"], query["category"], query["purpose"],
        consent=query["consent"], break_glass=bool(query["break_glass"]),
        cjis_authorized=bool(query["cjis_authorized"]),
    )  # fmt: skip
    return {"policy_version": engine.version, **_decision_json(engine.decide(request), active)}


def export_policy(engine: Engine) -> str:
    """The policy in force as a commented policy file."""
    with session_scope(engine) as session:
        return policy_file(published_policy(session))


def policy_file(published: PublishedPolicy) -> str:
    """``published`` as a commented policy file, naming the versions it combines."""
    scopes = ", ".join(f"{_scope_label(s)}={i}" for s, i in sorted(published.versions.items()))
    header = f"Exported policy {published.policy.version} (versions: {scopes or 'none'})."
    return dump_policy(published.policy, header)


def import_policy(engine: Engine, text: str, author: str = "cli") -> str:
    """Publish a policy file as new versions of every scope (absent scopes become empty).

    Raises:
        PolicyFormatError, PolicyValidationError: the file is refused whole.
    """
    policy = parse_policy(text)
    with session_scope(engine) as session:
        published = published_policy(session)
        scopes = {r.scope for r in policy.rules} | {o for o, _ in policy.sharing}
        ids = []
        for scope in sorted(scopes | set(published.versions)):
            rules = [r for r in policy.rules if r.scope == scope]
            sharing = sorted(p for p in policy.sharing if p[0] == scope)
            note = f"imported from policy file {policy.version}"
            ids.append(add_version(session, scope, author, note, rules, sharing))
        state = bump_state(session)
        for version_id in ids:
            mark_published(session, version_id, state)
        label = version_label(state)
        record(
            session,
            EventKind.POLICY_PUBLISH,
            context=CLI_CONTEXT,
            policy_version=label,
            details={"action": "import", "version_ids": ids, "rules": len(policy.rules)},
        )
    return label
