"""The privacy-officer workflow's writes: drafts, publish, rollback, export and import.

The reads (versions, diff, what-if, explain) are in :mod:`api.hub.policies.reads`.
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
from api.hub.policies.reads import combined_with, scope_label
from api.hub.policies.service import PolicyService
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
from api.schemas.policies import PublishPublic, RollbackPublic
from policy.enforcer import PolicyEngine
from policy.errors import PolicyAuthorityError, PolicyValidationError
from policy.policy_file import dump_policy, parse_policy
from policy.rules import RULE_FIELDS, Rule, SharingPair
from policy.validation import (
    check_rule_authority,
    check_sharing_authority,
    validate_agency,
    validate_policy_set,
    validate_rule,
)

__all__ = [
    "create_draft",
    "export_policy",
    "import_policy",
    "parse_draft",
    "policy_file",
    "publish",
    "rollback",
]

_ENTRY_KEYS = RULE_FIELDS[1:]  # scope comes from the draft


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
            details={"operation": "policy_edit", "scope": scope_label(scope)},
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
                "scope": scope_label(scope),
                "rules": len(rules),
            },
        )
        return load_version(session, version_id)


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
            "scope": scope_label(version.scope),
            "rules": len(version.rules),
            **details,
        },
    )
    return label


def publish(
    service: PolicyService, user: Principal, context: RequestContext, version_id: int
) -> PublishPublic:
    """Publish a draft; this process uses it at once, the others within a poll interval."""
    with session_scope(service.db) as session:
        version = load_version(session, version_id)
        _authorise(service.db, user, context, version.scope, version.rules, version.sharing)
        if version.published:
            raise Conflict("this version is already published; roll back to publish it again")
        label = _publish(session, user, context, version, "publish")
    service.load()
    return PublishPublic(version_id=version_id, policy_version=label)


def rollback(
    service: PolicyService, user: Principal, context: RequestContext, version_id: int
) -> RollbackPublic:
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
    return RollbackPublic(version_id=new_id, rollback_of=version_id, policy_version=label)


def export_policy(engine: Engine) -> str:
    """The policy in force as a commented policy file."""
    with session_scope(engine) as session:
        return policy_file(published_policy(session))


def policy_file(published: PublishedPolicy) -> str:
    """``published`` as a commented policy file, naming the versions it combines."""
    scopes = ", ".join(f"{scope_label(s)}={i}" for s, i in sorted(published.versions.items()))
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
