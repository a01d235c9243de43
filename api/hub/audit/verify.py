"""Verify the whole audit log and name the first thing wrong with it.

One streaming pass over ``audit_chain`` (joined to its events, in ``seq`` order)
recomputes each entry's hash from the event's stored columns and the previous
entry, and rebuilds the Merkle tree; at every signed tree head's size the
recomputed root must equal the signed root and the signature must check with
the public key. The first failure is reported, classified:

* ``altered`` — an event's columns (or its stored hash) do not match its entry;
* ``deleted`` — a chain position is missing, an event row of an unpurged entry
  is gone, or an entry's link skips over something;
* ``inserted`` — an entry links past the one before it (that one was slipped
  in), or an event row is neither chained nor queued;
* ``reordered`` — an entry links to an entry that comes later;
* ``rewritten`` — every link checks but the tree no longer matches a signed
  head (the chain was recomputed wholesale after the head was signed);
* ``bad_signature`` — a tree head's signature does not verify;
* ``truncated`` — a signed head covers more entries than the chain holds.

Events removed by a retention purge are not missing: their chain entries stay,
and a verified purge event in the chain says how far the purge went.
Queued (not yet sealed) events are counted, not judged. Verification reads
only; it needs the public key, never the private one.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Table, func, select

from api.hub.audit.events import EventKind, canonical_bytes
from api.hub.audit.merkle import CompactRange, leaf_hash
from api.hub.audit.sealer import EVENT_COLUMNS, GENESIS
from api.hub.audit.signing import key_id, verify_head_signature
from api.hub.audit.tables import AuditChain, AuditEvent, AuditPending, AuditTreeHead

__all__ = ["Problem", "VerifyReport", "verify_log"]

_CHAIN: Table = AuditChain.__table__  # type: ignore[attr-defined]
_EVENT: Table = AuditEvent.__table__  # type: ignore[attr-defined]
_PENDING: Table = AuditPending.__table__  # type: ignore[attr-defined]
_HEAD: Table = AuditTreeHead.__table__  # type: ignore[attr-defined]
_C, _E, _P, _H = _CHAIN.c, _EVENT.c, _PENDING.c, _HEAD.c


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong."""

    kind: str
    message: str
    seq: int | None = None
    event_id: int | None = None


@dataclass
class VerifyReport:
    """The outcome of one verification."""

    intact: bool = True
    events: int = 0
    purged: int = 0
    unsealed: int = 0
    signed_size: int = 0
    heads_checked: int = 0
    seconds: float = 0.0
    problem: Problem | None = None
    key_id: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


@dataclass
class _Head:
    id: int
    tree_size: int
    root: bytes
    timestamp_us: int
    key_id: str
    signature: bytes


def _heads(connection: Connection) -> list[_Head]:
    rows = connection.execute(
        select(
            _H.id, _H.tree_size, _H.root_hash, _H.timestamp_us, _H.key_id, _H.signature
        ).order_by(_H.tree_size, _H.id)
    ).all()
    return [_Head(*row) for row in rows]


def _purged_through(connection: Connection) -> int:
    rows = connection.execute(select(_E.details).where(_E.kind == EventKind.AUDIT_PURGE)).scalars()
    bounds = [orjson.loads(text).get("through_seq", 0) for text in rows]
    return max((b for b in bounds if isinstance(b, int)), default=0)


def _check_signatures(
    heads: list[_Head], public_key: Ed25519PublicKey | None, report: VerifyReport
) -> bool:
    if public_key is None:
        report.notes.append("no public key given: tree head signatures were not checked")
        return True
    report.key_id = key_id(public_key)
    for head in heads:
        if not verify_head_signature(
            public_key, head.tree_size, head.timestamp_us, head.root, head.signature
        ):
            report.problem = Problem(
                "bad_signature",
                f"tree head {head.id} (size {head.tree_size}) is not signed by key {report.key_id}",
            )
            return False
    return True


def verify_log(
    connection: Connection, public_key: Ed25519PublicKey | None, *, batch: int = 20_000
) -> VerifyReport:
    """Check the whole log through ``connection`` (read-only)."""
    started = time.perf_counter()
    report = VerifyReport()
    heads = _heads(connection)
    report.signed_size = max((h.tree_size for h in heads), default=0)
    if _check_signatures(heads, public_key, report):
        _walk(connection, heads, _purged_through(connection), report, batch)
    if report.problem is None:
        _stray_events(connection, report)
    report.unsealed = connection.execute(select(func.count()).select_from(_PENDING)).scalar_one()
    report.intact = report.problem is None
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _walk(
    connection: Connection, heads: list[_Head], purged: int, report: VerifyReport, batch: int
) -> None:
    query = (
        select(_C.seq, _C.event_id, _C.prev_hash, _C.entry_hash, *EVENT_COLUMNS)
        .select_from(_CHAIN.outerjoin(_EVENT, _E.id == _C.event_id))
        .order_by(_C.seq)
    )
    tree, prev, before_prev = CompactRange(), GENESIS, b""
    pending_heads = iter(heads)
    next_head = next(pending_heads, None)
    last_good = 0
    result = connection.execution_options(yield_per=batch).execute(query)
    for row in result:
        seq, event_id, prev_hash, entry_hash = row[0], row[1], row[2], row[3]
        if seq != tree.size + 1:
            report.problem = Problem(
                "deleted", f"chain entries {tree.size + 1}..{seq - 1} are missing", tree.size + 1
            )
            break
        if row[4] is None:
            if seq > purged:
                report.problem = Problem(
                    "deleted", f"event {event_id} (seq {seq}) was deleted", seq, event_id
                )
                break
            leaf = entry_hash  # purged: the signed heads still vouch for the stored hash
            report.purged += 1
        else:
            leaf = leaf_hash(prev_hash + canonical_bytes(row[4:]))
            if leaf != entry_hash:
                report.problem = Problem(
                    "altered", f"event {event_id} (seq {seq}) was altered", seq, event_id
                )
                break
        if prev_hash != prev:
            report.problem = _broken_link(connection, seq, event_id, prev_hash, before_prev)
            break
        tree.append(leaf)
        before_prev, prev = prev, leaf
        while next_head is not None and next_head.tree_size == tree.size:
            report.heads_checked += 1
            if tree.root() != next_head.root:
                report.problem = Problem(
                    "rewritten",
                    f"the log no longer matches tree head {next_head.id} (size {tree.size}): "
                    f"entries {last_good + 1}..{tree.size} were rewritten",
                    last_good + 1,
                )
                break
            last_good = tree.size
            next_head = next(pending_heads, None)
        if report.problem is not None:
            break
    result.close()
    report.events = tree.size
    if report.problem is None and next_head is not None:
        report.problem = Problem(
            "truncated",
            f"tree head {next_head.id} covers {next_head.tree_size} entries but the chain "
            f"ends at {tree.size}: entries after {tree.size} were deleted",
            tree.size + 1,
        )


def _broken_link(
    connection: Connection, seq: int, event_id: int, prev_hash: bytes, before_prev: bytes
) -> Problem:
    """Name what a wrong ``prev_hash`` at ``seq`` means."""
    if prev_hash == before_prev:
        row = connection.execute(select(_C.event_id).where(_C.seq == seq - 1)).first()
        inserted = row[0] if row else None
        return Problem(
            "inserted", f"event {inserted} (seq {seq - 1}) was inserted", seq - 1, inserted
        )
    later = connection.execute(
        select(_C.seq, _C.event_id).where(_C.entry_hash == prev_hash)
    ).first()
    if later is not None and later[0] > seq:
        return Problem(
            "reordered",
            f"events reordered: event {event_id} (seq {seq}) must follow event {later[1]} "
            f"(seq {later[0]})",
            seq,
            event_id,
        )
    return Problem(
        "deleted", f"an event before event {event_id} (seq {seq}) was deleted", seq, event_id
    )


def _stray_events(connection: Connection, report: VerifyReport) -> None:
    """An event row that is neither chained nor queued was slipped in."""
    stray = connection.execute(
        select(_E.id)
        .where(~select(_C.seq).where(_C.event_id == _E.id).exists())
        .where(~select(_P.event_id).where(_P.event_id == _E.id).exists())
        .order_by(_E.id)
        .limit(1)
    ).first()
    if stray is not None:
        report.problem = Problem(
            "inserted", f"event {stray[0]} is neither chained nor queued: inserted", None, stray[0]
        )
