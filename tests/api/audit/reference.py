"""An independent RFC 6962 Merkle tree, written straight from the RFC's definitions.

Deliberately naive (recursion over list slices, no shared code with
``api.hub.audit.merkle``) so the tests compare the service against the text of the
RFC, not against itself.
"""

from __future__ import annotations

import hashlib


def leaf(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || MTH(left) || MTH(right))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes: list[bytes]) -> bytes:
    """The Merkle tree hash of a list of *leaf hashes* (RFC 6962 §2.1)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = _k(len(hashes))
    return node(mth(hashes[:k]), mth(hashes[k:]))


def path(m: int, hashes: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 6962 §2.1.1)."""
    n = len(hashes)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*path(m, hashes[:k]), mth(hashes[k:])]
    return [*path(m - k, hashes[k:]), mth(hashes[:k])]


def _subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [mth(hashes)]
    k = _k(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], whole), mth(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), mth(hashes[:k])]


def proof(m: int, hashes: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 6962 §2.1.2), for 0 < m < n."""
    return _subproof(m, hashes, True)


def root_from_path(index: int, size: int, leaf_hash: bytes, audit_path: list[bytes]) -> bytes:
    """Recompute the root from an audit path by walking the RFC 6962 tree shape top-down."""
    if size == 1:
        assert not audit_path
        return leaf_hash
    k = _k(size)
    *rest, sibling = audit_path
    if index < k:
        return node(root_from_path(index, k, leaf_hash, rest), sibling)
    return node(sibling, root_from_path(index - k, size - k, leaf_hash, rest))
