"""Service settings, read from the environment (``CROSSWALK_*``) by pydantic-settings.

Everything the hub needs to start is here and nowhere else: the database URL, the
master key that wraps each agency's context data key, the linkage schema version
and key id the hub accepts, and request limits. :func:`get_settings` caches one
instance per process; tests build their own :class:`Settings` and pass it to
:func:`api.hub.app.create_app` instead of touching the environment.

Outside ``development`` a missing or all-zero master key is refused at start-up:
a hub that encrypts context under a well-known key protects nothing. The module
is a leaf of the hub: it imports nothing of the hub's domains (only the key
parser of :mod:`api.hub.context_crypto`, itself a leaf).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.errors import ConfigurationError
from api.hub.context_crypto import MasterKeyError, parse_master_key
from linkage.schema import default_schema

__all__ = ["DEV_MASTER_KEY", "DEV_SIGNING_SEED", "Settings", "get_settings"]

#: Only ever accepted with ``environment=development`` (the demo and the tests).
DEV_MASTER_KEY = hashlib.sha256(b"crosswalk development master key").hexdigest()
#: The development audit signing key (an Ed25519 seed), likewise development only.
DEV_SIGNING_SEED = hashlib.sha256(b"crosswalk development audit signing key").hexdigest()


class Settings(BaseSettings):
    """Hub configuration.

    Attributes:
        database_url: SQLAlchemy URL; ``postgresql://`` uses psycopg 3.
        environment: ``development`` allows the well-known development master key.
        master_key: 32 bytes as 64 hex digits (or URL-safe base64); wraps the per-agency data keys.
        schema_version: Linkage schema version submissions must carry (by
            default the built-in canonical schema's).
        key_id: Id of the linkage secret the agencies share (the hub never holds
            the secret itself); ``None`` accepts the first key id seen and then
            only that one.
        max_batch_records: Records per ``POST /v1/records`` request.
        max_body_bytes: Bytes per request body.
        token_default_days: Lifetime of a token issued without ``--expires-in``.
        auto_train_records: With no model yet, a re-link run (which trains one)
            starts by itself once the store holds this many records.
        request_threads: Threads a process runs request handlers in. Each
            request makes several database round trips; with many threads
            contending for the GIL every round trip waits behind the others.
        audit_signing_key: Ed25519 key that signs audit tree heads (PEM, or the
            32-byte seed as 64 hex digits); a development key in development.
        audit_head_every_events: Sign a tree head once this many events are sealed.
        audit_head_every_seconds: ... or once this long has passed with new events.
        audit_seal_interval_seconds: How often each server process seals pending
            audit events into the chain; 0 turns its sealer thread off.
        policy_poll_seconds: How often each server process checks whether a new
            policy was published (by any process); 0 turns its poller off.
        token_cache_seconds: How often each server process checks whether a
            token was revoked (by any process), and so the longest another
            process may still honour a revoked token; 0 turns the token cache
            off (every request reads its token from the database).
        break_glass_minutes: Lifetime of a break-glass grant.
        trusted_proxies: Comma-separated addresses (or networks) of reverse
            proxies whose ``X-Forwarded-For``/``-Proto`` ``crosswalk serve``
            believes; empty (the default) believes none, not even loopback, so
            no caller can choose the client address its audit events record.
    """

    model_config = SettingsConfigDict(env_prefix="CROSSWALK_", extra="ignore")

    database_url: str = "sqlite:///crosswalk.db"
    environment: Literal["development", "production"] = "production"
    master_key: SecretStr | None = None
    schema_version: str = Field(default_factory=lambda: default_schema().schema_version)
    key_id: str | None = None
    max_batch_records: int = Field(default=5000, ge=1)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    token_default_days: int = Field(default=90, ge=1)
    auto_train_records: int = Field(default=1000, ge=10)
    request_threads: int = Field(default=40, ge=1, le=200)
    audit_signing_key: SecretStr | None = None
    audit_head_every_events: int = Field(default=1000, ge=1)
    audit_head_every_seconds: float = Field(default=60.0, gt=0)
    audit_seal_interval_seconds: float = Field(default=0.25, ge=0)
    policy_poll_seconds: float = Field(default=0.25, ge=0, le=1)
    token_cache_seconds: float = Field(default=0.25, ge=0, le=1)
    break_glass_minutes: float = Field(default=15.0, gt=0, le=240)
    trusted_proxies: str = ""

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str) -> str:
        """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy's default is psycopg2)."""
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    def master_key_bytes(self) -> bytes:
        """The master key, refusing a missing or development key in production.

        Raises:
            ConfigurationError: if the key is absent, malformed, weak, or the
                development key outside development.
        """
        if self.master_key is None:
            if self.environment == "development":
                return bytes.fromhex(DEV_MASTER_KEY)
            raise ConfigurationError("CROSSWALK_MASTER_KEY must be set (64 hex digits)")
        text = self.master_key.get_secret_value().strip()
        if text == DEV_MASTER_KEY and self.environment != "development":
            raise ConfigurationError("the development master key is refused outside development")
        try:
            return parse_master_key(text)
        except MasterKeyError as exc:
            raise ConfigurationError(f"CROSSWALK_MASTER_KEY: {exc}") from exc

    def audit_signing_key_text(self) -> str:
        """The audit signing key, refusing a missing or development key in production.

        Raises:
            ConfigurationError: if the key is absent, or the development key
                outside development.
        """
        if self.audit_signing_key is None:
            if self.environment == "development":
                return DEV_SIGNING_SEED
            raise ConfigurationError(
                "CROSSWALK_AUDIT_SIGNING_KEY must be set (Ed25519 PEM or 64 hex digits)"
            )
        text = self.audit_signing_key.get_secret_value().strip()
        if text == DEV_SIGNING_SEED and self.environment != "development":
            raise ConfigurationError(
                "the development audit signing key is refused outside development"
            )
        return text


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
