"""Signed tree heads and Merkle proofs, read from the database.

Proofs are computed from the stored entry hashes (``audit_chain.entry_hash``),
which :mod:`api.hub.audit.verify` checks against the events themselves. An auditor
who kept an earlier signed head checks that the log only grew since with a
consistency proof, and that an event is in the log with an inclusion proof;
hashes travel as lowercase hex.
"""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from api.errors import InvalidRequest, NotFound
from api.hub.audit.merkle import consistency_proof, inclusion_proof
from api.hub.audit.tables import AuditChain, AuditTreeHead
from api.schemas.audit import ConsistencyProofPublic, InclusionProofPublic, TreeHeadPublic

__all__ = [
    "consistency_view",
    "head_view",
    "inclusion_view",
    "latest_head",
    "leaf_hashes",
    "list_heads",
]

_CHAIN: Table = AuditChain.__table__  # type: ignore[attr-defined]


def head_view(head: AuditTreeHead) -> TreeHeadPublic:
    """The response view of a (stored) signed tree head."""
    assert head.id is not None  # noqa: S101 - stored heads have ids
    return TreeHeadPublic(
        id=head.id,
        tree_size=head.tree_size,
        root_hash=head.root_hash.hex(),
        timestamp_us=head.timestamp_us,
        key_id=head.key_id,
        signature=head.signature.hex(),
    )


def latest_head(session: Session) -> AuditTreeHead | None:
    """The most recently signed head."""
    return session.exec(
        sqlmodel_select(AuditTreeHead).order_by(col(AuditTreeHead.id).desc()).limit(1)
    ).first()


def list_heads(session: Session, limit: int, offset: int) -> list[AuditTreeHead]:
    """Signed heads, newest first."""
    return list(
        session.exec(
            sqlmodel_select(AuditTreeHead)
            .order_by(col(AuditTreeHead.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
    )


def leaf_hashes(session: Session, size: int) -> list[bytes]:
    """The first ``size`` entry hashes, in chain order."""
    rows = session.connection().execute(
        select(_CHAIN.c.entry_hash).where(_CHAIN.c.seq <= size).order_by(_CHAIN.c.seq)
    )
    leaves = list(rows.scalars())
    if len(leaves) != size:
        raise NotFound("the chain is shorter than that tree size")
    return leaves


def _head_of_size(session: Session, size: int) -> AuditTreeHead | None:
    return session.exec(
        sqlmodel_select(AuditTreeHead)
        .where(AuditTreeHead.tree_size == size)
        .order_by(col(AuditTreeHead.id).desc())
        .limit(1)
    ).first()


def _size_or_latest(session: Session, tree_size: int | None) -> int:
    if tree_size is not None:
        return tree_size
    head = latest_head(session)
    if head is None:
        raise NotFound("no tree head has been signed yet")
    return head.tree_size


def inclusion_view(session: Session, event_id: int, tree_size: int | None) -> InclusionProofPublic:
    """The audit path of an event in the tree of ``tree_size`` (default: latest head)."""
    seq = (
        session.connection()
        .execute(select(_CHAIN.c.seq).where(_CHAIN.c.event_id == event_id))
        .scalar()
    )
    if seq is None:
        raise NotFound("the event is not sealed into the chain (yet)")
    size = _size_or_latest(session, tree_size)
    if not seq <= size:
        raise InvalidRequest("the event is not in a tree of that size")
    leaves = leaf_hashes(session, size)
    head = _head_of_size(session, size)
    return InclusionProofPublic(
        event_id=event_id,
        leaf_index=seq - 1,
        tree_size=size,
        leaf_hash=leaves[seq - 1].hex(),
        proof=[h.hex() for h in inclusion_proof(seq - 1, leaves)],
        head=head_view(head) if head else None,
    )


def consistency_view(session: Session, first: int, second: int | None) -> ConsistencyProofPublic:
    """Proof that the tree of ``first`` entries is a prefix of the ``second`` (default: latest)."""
    size = _size_or_latest(session, second)
    if not 0 <= first <= size:
        raise InvalidRequest("first must be between 0 and the second tree size")
    leaves = leaf_hashes(session, size)
    heads = (_head_of_size(session, first), _head_of_size(session, size))
    return ConsistencyProofPublic(
        first=first,
        second=size,
        proof=[h.hex() for h in consistency_proof(first, leaves)],
        first_head=head_view(heads[0]) if heads[0] else None,
        second_head=head_view(heads[1]) if heads[1] else None,
    )
