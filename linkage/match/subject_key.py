"""The subject-id key: fresh subject ids are keyed, so only the hub can mint them.

A subject id is what a responder presents to read a subject's context, so it must
be neither computable nor invertible by anyone else. It used to be an unkeyed
SHA-256 of one member's ``(agency, record_id)``: whoever knew an agency's
record-number format could compute ids of subjects nobody had resolved for them,
and map an id back to a record number in a few hashes. A fresh id is now
``S-`` and 16 hex digits (64 bits) of HMAC-SHA256, under a key the hub holds and
agencies and responders do not, over the cluster's smallest member key.

Why keyed rather than random (``secrets``):

* **Deterministic per key.** The same records, clustering and key give the same
  ids on every run — the batch backends must agree exactly (local and Spark), a
  re-run of ``crosswalk link`` is reproducible, and tests can pin ids. A random
  id would differ on every run.
* **Reveals nothing.** Without the key, HMAC-SHA256 is a pseudo-random function:
  an id can neither be computed from ``(agency, record_id)`` nor mapped back to
  it, and two hubs with different keys name the same data differently.
* **Stability does not hang on the key.** Ids persist through the stored
  previous assignment (:func:`linkage.match.subjects.assign_subject_ids`), never
  by re-deriving them, so rotating the key renames no existing subject; only
  subjects created afterwards are named under the new key.

Where the key comes from: the hub derives it from its master key with HKDF
(:meth:`SubjectIdKey.from_root`, domain-separated from every other use of that
key). The agencies' linkage secret must not be used: the agencies hold it.
``crosswalk link --id-key FILE`` reads it from a key file (made with
:func:`write_subject_key`; the CLI creates a random one on first use). Functions
that mint ids take the key as an argument; ``None`` where allowed means a
one-off random key — ids then stay unguessable, but are reproducible only
through a previous assignment.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from linkage.errors import KeyFileError

__all__ = [
    "SUBJECT_ID_PATTERN",
    "SUBJECT_KEY_BYTES",
    "SubjectIdKey",
    "is_subject_id",
    "read_subject_key",
    "write_subject_key",
]

SUBJECT_KEY_BYTES = 32
#: The shape of every id :class:`SubjectIdKey` mints: short, URL-safe, fixed length.
SUBJECT_ID_PATTERN = re.compile(r"S-[0-9a-f]{16}")
_DOMAIN = b"crosswalk/subject-id/v1"
_HEADER = "crosswalk-subject-id-key v1"


class SubjectIdKey:
    """The secret that names new subjects.

    Args:
        key: At least :data:`SUBJECT_KEY_BYTES` secret bytes.

    Raises:
        KeyFileError: if the key is not bytes or too short.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) < SUBJECT_KEY_BYTES:
            raise KeyFileError(f"a subject-id key must be at least {SUBJECT_KEY_BYTES} bytes")
        self._key = key

    @classmethod
    def generate(cls) -> SubjectIdKey:
        """A fresh random key from the operating system's CSPRNG."""
        return cls(secrets.token_bytes(SUBJECT_KEY_BYTES))

    @classmethod
    def from_root(cls, root: bytes) -> SubjectIdKey:
        """Derive the key from a longer-lived secret (the hub's master key) with HKDF-SHA256."""
        if not isinstance(root, bytes) or len(root) < SUBJECT_KEY_BYTES:
            raise KeyFileError(f"a root key must be at least {SUBJECT_KEY_BYTES} bytes")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=SUBJECT_KEY_BYTES, salt=_DOMAIN,
                    info=b"subject-id key")  # fmt: skip
        return cls(hkdf.derive(root))

    def subject_id(self, member: Sequence[str], attempt: int = 0) -> str:
        """The id named after one member key; ``attempt`` > 0 steps past a collision."""
        message = [_DOMAIN, attempt.to_bytes(4, "big")]
        for part in member:  # length-prefixed: ("a", "bc") and ("ab", "c") differ
            encoded = part.encode()
            message += [len(encoded).to_bytes(4, "big"), encoded]
        digest = hmac.digest(self._key, b"".join(message), hashlib.sha256)
        return "S-" + digest[:8].hex()

    def __repr__(self) -> str:  # never show the key
        return "SubjectIdKey(<secret>)"


def is_subject_id(text: str) -> bool:
    """Whether ``text`` has the shape of a minted subject id (``S-`` and 16 hex digits)."""
    return SUBJECT_ID_PATTERN.fullmatch(text) is not None


def write_subject_key(path: Path, key: SubjectIdKey) -> None:
    """Write a key file readable only by its owner; refuse to overwrite one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError as exc:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key file") from exc
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(f"{_HEADER}\n{key._key.hex()}\n")


def read_subject_key(path: Path) -> SubjectIdKey:
    """Load a key file written by :func:`write_subject_key`.

    Raises:
        KeyFileError: if the file is missing, not a subject-id key file (a linkage
            secret is refused: agencies hold it), or the key is short.
    """
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise KeyFileError(f"key file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"key file {path} is unreadable or not a text key file") from exc
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 2 or lines[0] != _HEADER:
        raise KeyFileError(f"{path} is not a subject-id key file (expected '{_HEADER}' header)")
    try:
        key = bytes.fromhex(lines[1])
    except ValueError as exc:
        raise KeyFileError(f"key file {path} does not hold a hex key") from exc
    return SubjectIdKey(key)
