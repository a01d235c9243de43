"""Ed25519 keys for signed tree heads, and the signed message.

The hub signs each tree head with a private key from ``CROSSWALK_AUDIT_SIGNING_KEY``
(a PKCS#8 PEM, or the 32-byte seed as 64 hex digits); outside development a
missing key or the well-known development key is refused, exactly like the
master key. Anyone holding the *public* key (``GET /v1/audit/public-key``, or
``crosswalk audit public-key``) can check heads offline. A head signs
``"crosswalk-audit-tree-head/1\\0" || tree_size (8 bytes, big-endian) ||
timestamp in µs (8 bytes) || root hash (32 bytes)``; the key id is the first
16 hex digits of SHA-256 of the raw public key.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "SigningKeyError",
    "TreeHeadSigner",
    "head_message",
    "key_id",
    "parse_private_key",
    "parse_public_key",
    "public_pem",
    "verify_head_signature",
]

#: Only ever accepted with ``environment=development`` (the demo and the tests).
_DOMAIN = b"crosswalk-audit-tree-head/1\x00"


class SigningKeyError(ValueError):
    """A signing or public key that cannot be read."""


def parse_private_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM or a 64-hex-digit seed."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError("the audit signing key is not a readable PEM key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError("the audit signing key must be an Ed25519 key")
        return key
    try:
        seed = bytes.fromhex(text)
    except ValueError as exc:
        raise SigningKeyError("the audit signing key must be PEM or 64 hex digits") from exc
    if len(seed) != 32:
        raise SigningKeyError("the audit signing key must be PEM or 64 hex digits")
    return Ed25519PrivateKey.from_private_bytes(seed)


def parse_public_key(data: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM or 64 hex digits (the raw 32 bytes)."""
    text = (data.decode("ascii", "replace") if isinstance(data, bytes) else data).strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, TypeError) as exc:
            raise SigningKeyError("the public key is not a readable PEM key") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError("the public key must be an Ed25519 key")
        return key
    try:
        raw = bytes.fromhex(text)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise SigningKeyError("the public key must be PEM or 64 hex digits") from exc


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key."""
    return hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as SubjectPublicKeyInfo PEM."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def head_message(tree_size: int, timestamp_us: int, root_hash: bytes) -> bytes:
    """The bytes a tree head signature covers."""
    return _DOMAIN + struct.pack(">QQ", tree_size, timestamp_us) + root_hash


def verify_head_signature(
    public_key: Ed25519PublicKey, tree_size: int, timestamp_us: int, root: bytes, signature: bytes
) -> bool:
    """Whether ``signature`` is the key's signature of that head."""
    try:
        public_key.verify(signature, head_message(tree_size, timestamp_us, root))
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class TreeHeadSigner:
    """Signs tree heads with one private key."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The matching public key."""
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        """The public key's id."""
        return key_id(self.public_key)

    def sign(self, tree_size: int, timestamp_us: int, root_hash: bytes) -> bytes:
        """The Ed25519 signature of a head."""
        return self.private_key.sign(head_message(tree_size, timestamp_us, root_hash))
