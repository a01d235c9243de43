"""The linkage secret and the keys derived from it.

All agencies of a program share one *linkage secret* (at least 32 random bytes). It
never leaves the agencies: the hub only ever sees values keyed with it. From the
secret we derive, with HKDF-SHA256 (RFC 5869), one independent 32-byte key per
field and purpose, so that a token of one field can never be compared with a token
of another and a leaked field key reveals nothing about the others. The *key id* is
itself an HKDF output: it names the secret (for rotation) without revealing it.

Key files are text: a header line and the secret in hex, so they survive copy/paste
and are easy to inspect for length.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from linkage.errors import KeyFileError

__all__ = [
    "MIN_SECRET_BYTES",
    "LinkageSecret",
    "generate_secret",
    "read_secret",
    "write_secret",
]

MIN_SECRET_BYTES = 32
_HEADER = "crosswalk-linkage-secret v1"
_SALT = b"crosswalk/linkage/v1"


class LinkageSecret:
    """A loaded linkage secret that derives per-field keys.

    Args:
        secret: The raw secret bytes (at least :data:`MIN_SECRET_BYTES`).
    """

    __slots__ = ("_cache", "_secret", "key_id")

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise KeyFileError(
                f"linkage secret is {len(secret)} bytes; at least {MIN_SECRET_BYTES} are required"
            )
        self._secret = secret
        self._cache: dict[str, bytes] = {}
        self.key_id = "k-" + self.derive("key-id", length=8).hex()

    def derive(self, purpose: str, *, length: int = 32) -> bytes:
        """Derive a key for one purpose (e.g. ``"token:family_name"``) with HKDF-SHA256."""
        cache_key = f"{purpose}/{length}"
        cached = self._cache.get(cache_key)
        if cached is None:
            hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=purpose.encode())
            cached = hkdf.derive(self._secret)
            self._cache[cache_key] = cached
        return cached

    def __repr__(self) -> str:  # never show the secret
        return f"LinkageSecret(key_id={self.key_id!r})"


def generate_secret(n_bytes: int = MIN_SECRET_BYTES) -> bytes:
    """Return ``n_bytes`` bytes from the operating system's CSPRNG."""
    if n_bytes < MIN_SECRET_BYTES:
        raise KeyFileError(f"refusing to generate a secret shorter than {MIN_SECRET_BYTES} bytes")
    return secrets.token_bytes(n_bytes)


def write_secret(path: Path, secret: bytes, *, overwrite: bool = False) -> None:
    """Write a key file readable only by its owner; refuse to clobber an existing one."""
    if path.exists() and not overwrite:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a linkage secret")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(f"{_HEADER}\n{secret.hex()}\n")


def read_secret(path: Path) -> LinkageSecret:
    """Load a key file written by :func:`write_secret`.

    Raises:
        KeyFileError: if the file is missing, not a key file, or the secret is short.
    """
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise KeyFileError(f"key file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"key file {path} is unreadable or not a text key file") from exc
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 2 or lines[0] != _HEADER:
        raise KeyFileError(f"{path} is not a crosswalk key file (expected '{_HEADER}' header)")
    try:
        secret = bytes.fromhex(lines[1])
    except ValueError as exc:
        raise KeyFileError(f"key file {path} does not hold a hex secret") from exc
    return LinkageSecret(secret)
