"""Envelope encryption of record context at rest (AES-256-GCM, per-agency data keys).

A 32-byte *master key* (from the service settings, passed in as an argument)
wraps one random 32-byte *data key* per agency; the data keys encrypt context.
Rotating the master key re-wraps a few dozen data keys (:func:`rewrap_data_key`)
and never touches the records; an agency's data key can be destroyed to
crypto-shred all of its context.

Wrapping uses AES-GCM rather than RFC 3394 key wrap because GCM takes associated
data: the agency name is bound to the wrapped key, so a wrapped key copied into
another agency's row fails to unwrap instead of silently decrypting that agency's
context with the wrong key.

**Context is encrypted per category**, one ciphertext per ``(record, category)``,
with associated data binding the format version, agency, record id and category.
A policy decision is made per agency and category, so the service decrypts only
the categories a request may see: a withheld or *conceal existence* category is
never decrypted at all, and a bug in later filtering cannot leak what was never
in memory. Binding the category means a ciphertext moved to another category,
record or agency fails authentication. The price is that the database shows which
categories a record has; the existence of a category is metadata the hub's
operators (and its policy engine) already hold. To keep ciphertext lengths from
telling more, each plaintext is padded with JSON whitespace to a multiple of
:data:`PAD_BLOCK` bytes.

Blobs are ``version (1 byte) ‖ nonce (12 random bytes) ‖ ciphertext ‖ tag``. With
random 96-bit nonces NIST SP 800-38D allows 2^32 encryptions per key; at 11
categories per record write that is about 390 million record writes per agency
before its data key must be rotated.

Errors never hold a key or a context value::

    ContextCryptoError          bad input (key length, context shape)
    ├── MasterKeyError          the master-key text is malformed or weak
    ├── DataKeyError            a wrapped data key does not unwrap (wrong master/agency, altered)
    └── ContextDecryptionError  a context blob does not decrypt (wrong key, moved, altered)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import os
import re
from collections.abc import Iterable, Mapping

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from linkage.records import CONTEXT_CATEGORIES

__all__ = [
    "DATA_KEY_BYTES",
    "MASTER_KEY_BYTES",
    "PAD_BLOCK",
    "ContextCryptoError",
    "ContextDecryptionError",
    "DataKeyError",
    "MasterKeyError",
    "decrypt_category",
    "decrypt_context",
    "encrypt_category",
    "encrypt_context",
    "encrypt_contexts",
    "master_key_id",
    "new_wrapped_data_key",
    "parse_master_key",
    "rewrap_data_key",
    "unwrap_data_key",
    "wrap_data_key",
]

MASTER_KEY_BYTES = 32
DATA_KEY_BYTES = 32
PAD_BLOCK = 256
_VERSION = 1
_NONCE_BYTES = 12
_MIN_DISTINCT_BYTES = 16  # 32 random bytes have ~30 distinct values; < 16 is all but impossible
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_B64_KEY = re.compile(r"[A-Za-z0-9_-]{43}=?")


class ContextCryptoError(Exception):
    """Root of the errors of context encryption; also raised for bad input."""


class MasterKeyError(ContextCryptoError):
    """The master-key text is malformed, of the wrong length, or obviously weak."""


class DataKeyError(ContextCryptoError):
    """A wrapped data key cannot be unwrapped with this master key for this agency."""


class ContextDecryptionError(ContextCryptoError):
    """A context ciphertext fails authentication or does not hold context."""


# --- keys -------------------------------------------------------------------------


def parse_master_key(text: str) -> bytes:
    """Parse the master key from settings text.

    Args:
        text: 64 hex digits, or URL-safe base64 (padding optional) of 32 bytes.

    Returns:
        The 32-byte key.

    Raises:
        MasterKeyError: if the text is neither form, or the key is obviously weak
            (few distinct bytes, a constant step such as 00 01 02 …, or a short
            repeating pattern).
    """
    text = text.strip()
    if _HEX_KEY.fullmatch(text):
        key = bytes.fromhex(text)
    elif _B64_KEY.fullmatch(text):
        try:
            key = base64.urlsafe_b64decode(text.rstrip("=") + "=")
        except binascii.Error as exc:  # pragma: no cover - the pattern admits only valid text
            raise MasterKeyError("the master key is not valid URL-safe base64") from exc
    else:
        raise MasterKeyError(
            "the master key must be 64 hex digits or URL-safe base64 of 32 bytes "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    if _is_weak(key):
        raise MasterKeyError("the master key is weak (not random); generate a new one")
    return key


def _is_weak(key: bytes) -> bool:
    """Few distinct bytes, a constant step (00 01 02 …) or a repeating pattern."""
    steps = {(b - a) % 256 for a, b in itertools.pairwise(key)}
    periodic = any(key[p:] == key[:-p] for p in range(1, len(key) // 2 + 1))
    return len(set(key)) < _MIN_DISTINCT_BYTES or len(steps) == 1 or periodic


def master_key_id(master: bytes) -> str:
    """A short public name of a master key (to record which key wrapped a data key)."""
    _check_key(master, MASTER_KEY_BYTES, "master key")
    return "mk-" + hmac.digest(master, b"crosswalk/master-key-id/v1", hashlib.sha256)[:8].hex()


def new_wrapped_data_key(master: bytes, agency: str) -> bytes:
    """Generate a fresh data key for ``agency`` and return it wrapped under ``master``."""
    return wrap_data_key(master, AESGCM.generate_key(bit_length=8 * DATA_KEY_BYTES), agency)


def wrap_data_key(master: bytes, data_key: bytes, agency: str) -> bytes:
    """Wrap ``data_key`` under ``master``, bound to ``agency``."""
    _check_key(master, MASTER_KEY_BYTES, "master key")
    _check_key(data_key, DATA_KEY_BYTES, "data key")
    return _seal(master, data_key, _aad(b"data-key", agency))


def unwrap_data_key(master: bytes, wrapped: bytes, agency: str) -> bytes:
    """Unwrap an agency's data key.

    Raises:
        DataKeyError: on a wrong master key, another agency's wrapped key, or alteration.
    """
    _check_key(master, MASTER_KEY_BYTES, "master key")
    try:
        key = _open(master, wrapped, _aad(b"data-key", agency))
    except ContextDecryptionError as exc:
        raise DataKeyError(f"the data key of agency {agency!r} does not unwrap") from exc
    if len(key) != DATA_KEY_BYTES:  # pragma: no cover - authenticated, so only we wrote it
        raise DataKeyError(f"the data key of agency {agency!r} has the wrong length")
    return key


def rewrap_data_key(old_master: bytes, new_master: bytes, wrapped: bytes, agency: str) -> bytes:
    """Re-wrap an agency's data key under a new master key (master-key rotation)."""
    return wrap_data_key(new_master, unwrap_data_key(old_master, wrapped, agency), agency)


# --- context ----------------------------------------------------------------------


def encrypt_category(
    data_key: bytes, fields: Mapping[str, str], *, agency: str, record_id: str, category: str
) -> bytes:
    """Encrypt one category of a record's context.

    Raises:
        ContextCryptoError: on a wrong-length key, an unknown category, or fields
            that are not text.
    """
    _check_key(data_key, DATA_KEY_BYTES, "data key")
    return _encrypt_category(AESGCM(data_key), fields, agency, record_id, category)


def _encrypt_category(
    aead: AESGCM, fields: Mapping[str, str], agency: str, record_id: str, category: str
) -> bytes:
    if category not in CONTEXT_CATEGORIES:
        raise ContextCryptoError("context category is not a known data category")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
        raise ContextCryptoError(f"context of category {category!r} must map names to text")
    plaintext = orjson.dumps(dict(fields))
    plaintext += b" " * (-len(plaintext) % PAD_BLOCK)
    return _seal_with(aead, plaintext, _aad(b"context", agency, record_id, category))


def encrypt_context(
    data_key: bytes, context: Mapping[str, Mapping[str, str]], *, agency: str, record_id: str
) -> dict[str, bytes]:
    """Encrypt a record's context, one ciphertext per category.

    Returns:
        Category → ciphertext, to be stored beside the record.
    """
    return encrypt_contexts(data_key, [(record_id, context)], agency=agency)[0]


def encrypt_contexts(
    data_key: bytes,
    contexts: Iterable[tuple[str, Mapping[str, Mapping[str, str]]]],
    *,
    agency: str,
) -> list[dict[str, bytes]]:
    """Encrypt the context of many records of one agency (a submitted batch).

    Args:
        data_key: The agency's unwrapped data key.
        contexts: ``(record_id, context)`` pairs.
        agency: The owning agency.

    Returns:
        For each pair, in order, category → ciphertext (as :func:`encrypt_context`).
    """
    _check_key(data_key, DATA_KEY_BYTES, "data key")
    aead = AESGCM(data_key)  # one key schedule for the whole batch
    return [
        {
            category: _encrypt_category(aead, fields, agency, record_id, category)
            for category, fields in context.items()
        }
        for record_id, context in contexts
    ]


def decrypt_category(
    data_key: bytes, blob: bytes, *, agency: str, record_id: str, category: str
) -> dict[str, str]:
    """Decrypt one category of a record's context.

    Raises:
        ContextDecryptionError: if the blob was altered, moved to another record,
            agency or category, or was encrypted under another key.
    """
    _check_key(data_key, DATA_KEY_BYTES, "data key")
    plaintext = _open(data_key, blob, _aad(b"context", agency, record_id, category))
    try:
        fields = orjson.loads(plaintext)
    except orjson.JSONDecodeError as exc:  # pragma: no cover - authenticated, so only we wrote it
        raise ContextDecryptionError(f"context of category {category!r} is corrupt") from exc
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise ContextDecryptionError(f"context of category {category!r} is corrupt")
    return fields


def decrypt_context(
    data_key: bytes,
    blobs: Mapping[str, bytes],
    *,
    agency: str,
    record_id: str,
    categories: Iterable[str] | None = None,
) -> dict[str, dict[str, str]]:
    """Decrypt the stored categories of a record that policy allows.

    Args:
        data_key: The owning agency's unwrapped data key.
        blobs: Category → ciphertext, as :func:`encrypt_context` returned.
        agency: The owning agency.
        record_id: The record's id.
        categories: The categories to decrypt (all stored ones if ``None``);
            no other ciphertext is touched.

    Raises:
        ContextDecryptionError: if any requested ciphertext fails to decrypt.
    """
    wanted = blobs.keys() if categories is None else set(categories) & blobs.keys()
    return {
        category: decrypt_category(
            data_key, blobs[category], agency=agency, record_id=record_id, category=category
        )
        for category in sorted(wanted)
    }


# --- primitives -------------------------------------------------------------------


def _check_key(key: bytes, length: int, what: str) -> None:
    if not isinstance(key, bytes) or len(key) != length:
        raise ContextCryptoError(f"the {what} must be {length} bytes")


def _aad(purpose: bytes, *parts: str) -> bytes:
    """Associated data: purpose, version and length-prefixed parts (unambiguous)."""
    out = [b"crosswalk/", purpose, bytes([_VERSION])]
    for part in parts:
        encoded = part.encode()
        out += [len(encoded).to_bytes(4, "big"), encoded]
    return b"".join(out)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    return _seal_with(AESGCM(key), plaintext, aad)


def _seal_with(aead: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return bytes([_VERSION]) + nonce + aead.encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Authenticate and decrypt; every failure is a :class:`ContextDecryptionError`."""
    if len(blob) < 1 + _NONCE_BYTES + 16 or blob[0] != _VERSION:
        raise ContextDecryptionError("ciphertext is truncated or of an unknown format version")
    nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    except InvalidTag as exc:
        raise ContextDecryptionError(
            "ciphertext failed authentication (wrong key, moved to another row, or altered)"
        ) from exc
