"""``/v1/policies`` responses: the policy in force, versions, diffs, publishing, what-if, explain.

A rule is its six fields (the Casbin row, :data:`policy.rules.RULE_FIELDS`) and
a one-line reading; a rule of the policy in force also carries its stored id
(``rule-12``), the label audit events name it by. Rules of a draft or an old
version have no such id, so their JSON has no ``id`` key at all
(:class:`RulePublic` against :class:`RuleInForcePublic`). Timestamps are ISO 8601
strings in UTC, as the store reads them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from policy.enforcer import REASONS
from policy.vocabulary import CONSENT_STATES

__all__ = [
    "DecisionPublic",
    "ExplainPublic",
    "PolicyDiffPublic",
    "PublishPublic",
    "PublishedPolicyPublic",
    "RollbackPublic",
    "RuleInForcePublic",
    "RulePublic",
    "SharingPublic",
    "VersionListPublic",
    "VersionMetaPublic",
    "VersionPublic",
    "VersionSummaryPublic",
    "WhatIfChangePublic",
    "WhatIfPublic",
    "WhatIfSummaryPublic",
]

_REASON = f"A reason code, one of: {', '.join(REASONS)}."


class RulePublic(BaseModel):
    """One access rule: the six Casbin fields and how it reads."""

    scope: str = Field(description="The agency whose data it governs, or `*` (program-wide).")
    role: str = Field(description="The requester role it applies to, or `*`.")
    category: str = Field(description="The data category, or `*`.")
    purpose: str = Field(description="The purpose of use, or `*`.")
    condition: str = Field(description="The condition that must hold (`always` for none).")
    effect: str = Field(description="`allow` or `deny`; a deny overrides an allow.")
    text: str = Field(description="A one-line human reading of the rule.")


class RuleInForcePublic(RulePublic):
    """A rule of the policy in force, with the id audit events name it by."""

    id: str | None = Field(
        description="The stored rule's label (`rule-12`); null if the loaded policy lacks it."
    )


class SharingPublic(BaseModel):
    """A sharing opt-in: ``owner`` lets ``recipient``'s users be considered by its rules."""

    owner: str = Field(description="The agency that owns the data and opts in.")
    recipient: str = Field(description="The agency whose users may be considered.")


class PublishedPolicyPublic(BaseModel):
    """The policy in force: every scope's latest published version, combined."""

    policy_version: str = Field(description="The label of the published policy (`v<n>`).")
    loaded: str = Field(
        description="The label this process has loaded (the same once the poller has caught up)."
    )
    versions: dict[str, int] = Field(description="Scope (`*` or an agency) → version id in force.")
    rules: list[RuleInForcePublic] = Field(description="Every rule in force, scope by scope.")
    sharing: list[SharingPublic] = Field(description="Every opt-in in force, sorted.")


class VersionMetaPublic(BaseModel):
    """What every view of a stored version says about it."""

    id: int = Field(description="The version id.")
    scope: str = Field(description="`*` (program-wide guard rails) or the agency it governs.")
    author: str = Field(description="The username that stored it.")
    note: str = Field(description="The author's note (a rollback names the version it copies).")
    created_at: str = Field(description="When it was stored (ISO 8601, UTC).")
    published: bool = Field(description="Whether it has been published (false: a draft).")
    published_as: str | None = Field(
        description="The policy label its publishing produced (`v<n>`); null for a draft."
    )
    published_at: str | None = Field(
        description="When it was published (ISO 8601, UTC); null for a draft."
    )


class VersionSummaryPublic(VersionMetaPublic):
    """A version in a listing: its metadata, without its rules."""

    rules: int = Field(description="How many rules it holds.")
    shares_with: list[str] = Field(description="Agencies the scope opts in to share with, sorted.")


class VersionPublic(VersionMetaPublic):
    """One version with its rules and opt-ins."""

    rules: list[RulePublic] = Field(description="Its rules, in stored order.")
    shares_with: list[str] = Field(description="Agencies the scope opts in to share with, sorted.")
    rule_ids: list[int] = Field(description="The stored id of each rule, in the same order.")


class VersionListPublic(BaseModel):
    """Versions the caller may read, newest first (other scopes' drafts left out)."""

    versions: list[VersionSummaryPublic] = Field(description="The versions, newest first.")


class PolicyDiffPublic(BaseModel):
    """Rules and opt-ins added and removed from one version to another."""

    from_version: int = Field(serialization_alias="from", description="The version diffed from.")
    to_version: int = Field(serialization_alias="to", description="The version diffed to.")
    added_rules: list[RulePublic] = Field(description="Rules only in `to`, sorted.")
    removed_rules: list[RulePublic] = Field(description="Rules only in `from`, sorted.")
    added_sharing: list[SharingPublic] = Field(description="Opt-ins only in `to`, sorted.")
    removed_sharing: list[SharingPublic] = Field(description="Opt-ins only in `from`, sorted.")


class PublishPublic(BaseModel):
    """A published draft."""

    version_id: int = Field(description="The version published.")
    policy_version: str = Field(description="The label of the policy now in force (`v<n>`).")


class RollbackPublic(BaseModel):
    """A rollback: a copy of an old version, published as a new one."""

    version_id: int = Field(description="The new version (the copy) now published.")
    rollback_of: int = Field(description="The old version it copies.")
    policy_version: str = Field(description="The label of the policy now in force (`v<n>`).")


class DecisionPublic(BaseModel):
    """The answer to one access request and the rule behind it."""

    allowed: bool = Field(description="Whether the category may be disclosed.")
    reason: str = Field(description=_REASON)
    rule: RuleInForcePublic | RulePublic | None = Field(
        description="The rule that decided (the matching allow or the overriding deny), with its "
        "id when the policy in force decided; null when no rule matched."
    )
    would_allow: RuleInForcePublic | RulePublic | None = Field(
        description="For `consent_*`, `break_glass_available` and `purpose_not_permitted`: the "
        "rule that would allow once that changes; else null."
    )
    explanation: str = Field(description="A one-line account of the decision.")


class ExplainPublic(DecisionPublic):
    """The decision for one request, under the policy in force or a version."""

    policy_version: str = Field(
        description="The policy that decided: the label in force (`v<n>`), or `draft-<id>` for "
        "a version combined with the other scopes in force."
    )


class WhatIfSummaryPublic(BaseModel):
    """How many changed decisions share an owner, category and pair of reasons."""

    owner: str = Field(description="The owning agency.")
    category: str = Field(description="The data category.")
    before: str = Field(description=f"The reason under the policy in force. {_REASON}")
    after: str = Field(description=f"The reason under the version. {_REASON}")
    count: int = Field(description="How many requests change so.")


class WhatIfChangePublic(BaseModel):
    """One request whose decision the version would change."""

    role: str = Field(description="The requester's role.")
    agency: str = Field(description="The requester's agency.")
    owner: str = Field(description="The agency holding the data.")
    category: str = Field(description="The data category.")
    purpose: str = Field(description="The purpose of use.")
    consent: str = Field(description=f"The consent state, one of: {', '.join(CONSENT_STATES)}.")
    break_glass: bool = Field(description="Whether a break-glass grant covers the request.")
    cjis_authorized: bool = Field(description="Whether the requester holds CJIS authorisation.")
    before: DecisionPublic = Field(description="The decision of the policy in force (rule ids).")
    after: DecisionPublic = Field(description="The decision with the version (no rule ids).")


class WhatIfPublic(BaseModel):
    """Every decision a version would change against the policy in force."""

    version_id: int = Field(description="The version tried.")
    against: str = Field(description="The label of the policy in force compared with.")
    combinations: int = Field(description="The size of the request space swept.")
    evaluated: int = Field(
        description="Requests put to both engines (the rest provably unchanged)."
    )
    changed: int = Field(description="How many decisions change.")
    truncated: bool = Field(description="Whether `changes` stops at the requested limit.")
    summary: list[WhatIfSummaryPublic] = Field(
        description="Counts of every change by owner, category and reasons, sorted."
    )
    changes: list[WhatIfChangePublic] = Field(
        description="The changed requests in sweep order, up to the limit."
    )
