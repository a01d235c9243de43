"""The gateway's settings: which hub, which agency, which key, where its state lives.

Given on the command line (``crosswalk gateway serve …``) and passed in
explicitly; nothing is read from globals. The key file is read once at start-up
(:meth:`GatewaySettings.secret`); the state folder holds the gateway's own
SQLite store of the agency's records (plaintext that never leaves the agency)
and its sync state, created owner-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from linkage.encode.keys import LinkageSecret, read_secret
from linkage.schema import LinkageSchema, default_schema, load_schema

__all__ = ["GatewaySettings"]


@dataclass(frozen=True)
class GatewaySettings:
    """Everything one agency's gateway needs.

    Attributes:
        hub_url: The hub's base URL (``https://hub.example.org``).
        agency: This agency's name at the hub.
        key_file: The program's linkage secret (``crosswalk keygen``).
        state_dir: Where the local store and sync state live.
        schema_file: The agency's linkage schema (TOML); the canonical one if ``None``.
        hub_timeout_seconds: How long a call to the hub may take before the
            gateway answers 503.
        context: Columns of the agency's export shared as context, by category
            (``{"safety_flags": ("weapons",)}``), for sync.
        cookie_secure: Mark session cookies ``Secure`` (set when served over TLS).
        session_minutes: How long a responder's page session lasts.
        sync_every_minutes: Sync ``export_dir`` on this schedule (``None``: never).
        export_dir: The export folder the schedule syncs.
        token_file: The data steward's token the schedule syncs with.
    """

    hub_url: str
    agency: str
    key_file: Path
    state_dir: Path
    schema_file: Path | None = None
    hub_timeout_seconds: float = 5.0
    context: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cookie_secure: bool = False
    session_minutes: float = 60.0
    sync_every_minutes: float | None = None
    export_dir: Path | None = None
    token_file: Path | None = None

    @cached_property
    def secret(self) -> LinkageSecret:
        """The linkage secret (read once; raises KeyFileError if the file is bad)."""
        return read_secret(self.key_file)

    @cached_property
    def schema(self) -> LinkageSchema:
        """The agency's linkage schema."""
        return load_schema(self.schema_file) if self.schema_file else default_schema()

    @property
    def database(self) -> Path:
        """The local store's SQLite file."""
        return self.state_dir / "gateway.db"
