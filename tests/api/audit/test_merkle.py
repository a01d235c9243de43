"""RFC 6962 hashing and proofs agree with an independent reading of the RFC."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.hub.audit import merkle
from tests.api.audit import reference


def _leaves(n: int) -> list[bytes]:
    return [reference.leaf(f"event {i}".encode()) for i in range(n)]


def test_leaf_and_node_hashes_use_the_rfc_prefixes() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.EMPTY_ROOT == hashlib.sha256(b"").digest() == merkle.root_of([])


@pytest.mark.parametrize("n", range(1, 70))
def test_the_compact_range_root_is_the_rfc_tree_hash(n: int) -> None:
    leaves = _leaves(n)
    tree = merkle.CompactRange()
    for i, leaf in enumerate(leaves, start=1):
        tree.append(leaf)
        assert tree.root() == reference.mth(leaves[:i])
    restored = merkle.CompactRange.from_bytes(tree.size, tree.to_bytes())
    assert restored.root() == tree.root()


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33])
def test_inclusion_proofs_match_the_rfc_path_and_verify(n: int) -> None:
    leaves = _leaves(n)
    root = reference.mth(leaves)
    for m in range(n):
        proof = merkle.inclusion_proof(m, leaves)
        assert proof == reference.path(m, leaves)
        assert reference.root_from_path(m, n, leaves[m], proof) == root
        assert merkle.verify_inclusion(m, n, leaves[m], proof, root)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33])
def test_consistency_proofs_match_the_rfc_proof_and_verify(n: int) -> None:
    leaves = _leaves(n)
    for m in range(1, n):
        proof = merkle.consistency_proof(m, leaves)
        assert proof == reference.proof(m, leaves)
        assert merkle.verify_consistency(
            m, n, reference.mth(leaves[:m]), reference.mth(leaves), proof
        )


@given(st.integers(2, 200), st.data())
def test_tampered_proofs_are_refused(n: int, data: st.DataObject) -> None:
    leaves = _leaves(n)
    root = reference.mth(leaves)
    m = data.draw(st.integers(0, n - 1))
    path = merkle.inclusion_proof(m, leaves)
    flip = data.draw(st.integers(0, len(path) - 1))
    bad = [*path[:flip], bytes(32), *path[flip + 1 :]]
    assert not merkle.verify_inclusion(m, n, leaves[m], bad, root)
    assert not merkle.verify_inclusion(m, n, reference.leaf(b"forged"), path, root)
    first = data.draw(st.integers(1, n - 1))
    proof = merkle.consistency_proof(first, leaves)
    old_root = reference.mth(leaves[:first])
    assert merkle.verify_consistency(first, n, old_root, root, proof)
    assert not merkle.verify_consistency(first, n, reference.leaf(b"forged"), root, proof)
    assert not merkle.verify_consistency(first, n, old_root, root, [bytes(32), *proof[1:]])


def test_edge_cases_of_consistency() -> None:
    leaves = _leaves(5)
    root = reference.mth(leaves)
    assert merkle.consistency_proof(5, leaves) == []
    assert merkle.verify_consistency(5, 5, root, root, [])
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, root, [])
    assert not merkle.verify_consistency(6, 5, root, root, [])
    assert not merkle.verify_consistency(3, 5, root, root, [])
    with pytest.raises(ValueError, match="larger"):
        merkle.consistency_proof(6, leaves)
    with pytest.raises(ValueError, match="outside"):
        merkle.inclusion_proof(5, leaves)
