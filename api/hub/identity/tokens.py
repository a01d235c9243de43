"""Bearer tokens: 256 random bits, shown once, stored only as a SHA-256 digest.

A token is ``cw_`` followed by 43 URL-safe base64 characters. Because it is
uniformly random (not a password), one fast hash is enough for storage: a leaked
``api_token`` table reveals nothing that can be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["TOKEN_PREFIX", "hash_token", "new_token", "tokens_equal"]

TOKEN_PREFIX = "cw_"  # noqa: S105 - a public marker, not a secret


def new_token() -> str:
    """A fresh bearer token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The digest stored and looked up for ``token``."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a, b)
