"""``/v1/audit`` responses: events, the break-glass queue, disclosures, verification, proofs.

Events appear as the log stores them, with ``seq`` (the event's position in the
hash chain, null until it is sealed) first; the CSV and JSON Lines exports
carry the same fields. Hashes and signatures travel as lowercase hex; times
are ISO 8601 in UTC.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "AuditEventPagePublic",
    "AuditEventPublic",
    "BreakGlassEventPublic",
    "BreakGlassQueuePublic",
    "BreakGlassReviewPublic",
    "BreakGlassReviewedPublic",
    "ConsistencyProofPublic",
    "DisclosurePublic",
    "DisclosuresPublic",
    "InclusionProofPublic",
    "PublicKeyPublic",
    "TreeHeadPublic",
    "TreeHeadsPublic",
    "VerifyProblemPublic",
    "VerifyReportPublic",
]


class AuditEventPublic(BaseModel):
    """One audit event (see ``api.hub.audit.events`` for the fields' vocabularies)."""

    seq: int | None = Field(description="Position in the hash chain; null until sealed.")
    id: int = Field(description="The event's id.")
    occurred_at: str = Field(description="When it happened (ISO 8601, UTC).")
    kind: str = Field(description="The event kind, e.g. `subject.view`.")
    actor_user_id: int | None = Field(description="The acting user's id; null for the hub itself.")
    actor_username: str | None = Field(description="The acting user's name.")
    actor_role: str | None = Field(description="The acting user's role.")
    actor_agency: str | None = Field(description="The acting user's agency.")
    subject_id: str | None = Field(description="The subject concerned, if any.")
    agency: str | None = Field(description="The agency whose data or object is concerned.")
    categories: list[str] = Field(description="Data categories returned.")
    withheld: list[str] = Field(description="Data categories withheld.")
    decision: str | None = Field(description="`permit`, `deny` or `partial`; null if none.")
    rule: str | None = Field(description="The deciding policy rule or reason code.")
    policy_version: str | None = Field(description="The policy version that decided.")
    purpose: str | None = Field(description="The purpose of use given.")
    reason: str | None = Field(description="The free-text reason given (no identifiers).")
    incident: str | None = Field(description="The incident number given.")
    break_glass: bool = Field(description="Whether this was emergency (break-glass) access.")
    client: str | None = Field(description="The client's address.")
    request_id: str | None = Field(description="The request's id (`X-Request-ID`).")
    details: dict[str, Any] = Field(description="Ids, counts and category names of the act.")


class AuditEventPagePublic(BaseModel):
    """One page of matching events, newest first."""

    events: list[AuditEventPublic] = Field(description="The page's events.")
    next_before_id: int | None = Field(
        description="Pass as `before_id` for the next page; null on the last page."
    )


class BreakGlassReviewPublic(BaseModel):
    """An auditor's review of a break-glass use."""

    reviewed_by: str = Field(description="The reviewing auditor's username.")
    reviewed_at: str = Field(description="When it was reviewed (ISO 8601, UTC).")
    note: str = Field(description="The auditor's note (no identifiers).")


class BreakGlassEventPublic(AuditEventPublic):
    """A break-glass event, with its review once it has one."""

    review: BreakGlassReviewPublic | None = Field(
        description="The review; null while awaiting one."
    )


class BreakGlassQueuePublic(BaseModel):
    """One page of break-glass events, oldest first."""

    events: list[BreakGlassEventPublic] = Field(description="The page's break-glass events.")
    reviewed: bool = Field(
        description="Whether these are the reviewed ones (else those awaiting review)."
    )
    offset: int = Field(description="The page's offset, as requested.")


class BreakGlassReviewedPublic(BaseModel):
    """A review just recorded."""

    event_id: int = Field(description="The reviewed break-glass event.")
    reviewed_by: str = Field(description="The reviewing auditor's username.")
    note: str = Field(description="The note as stored (whitespace collapsed).")


class DisclosurePublic(BaseModel):
    """One disclosure of a person's data: who saw which categories, when and why."""

    id: int = Field(description="The disclosure event's id.")
    occurred_at: str = Field(description="When it happened (ISO 8601, UTC).")
    kind: str = Field(description="`subject.view` or `subject.break_glass`.")
    subject_id: str | None = Field(description="The subject id the disclosure was made under.")
    agency: str | None = Field(description="The agency whose data was disclosed.")
    categories: list[str] = Field(description="The categories disclosed.")
    actor_username: str | None = Field(description="Who received the data.")
    actor_role: str | None = Field(description="The recipient's role.")
    actor_agency: str | None = Field(description="The recipient's agency.")
    purpose: str | None = Field(description="The purpose of use given.")
    reason: str | None = Field(description="The free-text reason given (no identifiers).")
    incident: str | None = Field(description="The incident number given.")
    break_glass: bool = Field(description="Whether this was emergency (break-glass) access.")


class DisclosuresPublic(BaseModel):
    """A person's accounting of disclosures over the last six years, oldest first."""

    subject_id: str = Field(description="The person's current subject id.")
    subject_ids: list[str] = Field(
        description="Every subject id the person's records carried (merges and splits), sorted."
    )
    since: str = Field(description="Start of the accounting period (ISO 8601, UTC).")
    until: str = Field(description="End of the accounting period (ISO 8601, UTC).")
    disclosures: list[DisclosurePublic] = Field(description="The disclosures, oldest first.")


class VerifyProblemPublic(BaseModel):
    """The first thing verification found wrong."""

    kind: str = Field(
        description="`altered`, `deleted`, `inserted`, `reordered`, `rewritten`, "
        "`bad_signature` or `truncated`."
    )
    message: str = Field(description="What is wrong, naming events by id and position.")
    seq: int | None = Field(description="The chain position concerned, if any.")
    event_id: int | None = Field(description="The event concerned, if any.")


class VerifyReportPublic(BaseModel):
    """The outcome of verifying the whole log."""

    intact: bool = Field(description="Whether nothing was found wrong.")
    events: int = Field(description="Chain entries checked.")
    purged: int = Field(description="Entries whose events a retention purge removed.")
    unsealed: int = Field(description="Events queued but not yet sealed (counted, not judged).")
    signed_size: int = Field(description="The largest signed tree size.")
    heads_checked: int = Field(description="Signed tree heads whose roots were recomputed.")
    seconds: float = Field(description="How long verification took (3 decimals).")
    problem: VerifyProblemPublic | None = Field(description="The first problem; null if intact.")
    key_id: str | None = Field(description="Id of the key signatures were checked with.")
    notes: list[str] = Field(description="Caveats, e.g. that no public key was configured.")


class TreeHeadPublic(BaseModel):
    """A signed tree head (Ed25519 over tree size, timestamp and root)."""

    id: int = Field(description="The tree head's id.")
    tree_size: int = Field(description="How many chain entries the tree covers.")
    root_hash: str = Field(description="The Merkle root (RFC 6962), hex.")
    timestamp_us: int = Field(description="When it was signed, in microseconds since the epoch.")
    key_id: str = Field(description="Id of the signing key.")
    signature: str = Field(description="The Ed25519 signature, hex.")


class TreeHeadsPublic(BaseModel):
    """One page of signed tree heads, newest first."""

    tree_heads: list[TreeHeadPublic] = Field(description="The page's tree heads.")
    offset: int = Field(description="The page's offset, as requested.")


class InclusionProofPublic(BaseModel):
    """The audit path of an event's entry in a tree (RFC 6962)."""

    event_id: int = Field(description="The event.")
    leaf_index: int = Field(description="The entry's index in the tree (its `seq` - 1).")
    tree_size: int = Field(description="The size of the tree proved against.")
    leaf_hash: str = Field(description="The entry's leaf hash, hex.")
    proof: list[str] = Field(description="The audit path, hex, leaf to root.")
    head: TreeHeadPublic | None = Field(
        description="The signed head of that size; null if none was signed at that size."
    )


class ConsistencyProofPublic(BaseModel):
    """Proof that the tree of ``first`` entries is a prefix of the tree of ``second`` (RFC 6962)."""

    first: int = Field(description="The earlier tree size.")
    second: int = Field(description="The later tree size.")
    proof: list[str] = Field(description="The consistency proof, hex.")
    first_head: TreeHeadPublic | None = Field(
        description="A signed head of the first size, if any."
    )
    second_head: TreeHeadPublic | None = Field(
        description="A signed head of the second size, if any."
    )


class PublicKeyPublic(BaseModel):
    """The key tree heads are signed with."""

    key_id: str = Field(description="The key's id, as tree heads name it.")
    public_key: str = Field(description="The Ed25519 public key, PEM.")
