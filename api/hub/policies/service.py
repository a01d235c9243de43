"""The published policy in one server process: load fail-closed, warm, swap, follow.

:class:`PolicyService` holds an immutable :class:`ActivePolicy` (a warmed
:class:`policy.PolicyEngine`, the rule ids and the ``policy_state`` number it was
built from). Readers take the reference once per request and use it throughout,
so a request never mixes two policies; a reload builds the next engine off to the
side (``PolicyEngine.load_or_deny``: a stored rule set that fails validation
denies everything rather than loading part of it), warms it and swaps the
reference.

**Propagation.** A publish in any process bumps ``policy_state.version`` in the
publishing transaction. Each process polls that one row every
``policy_poll_seconds`` (0.25 s by default) on a daemon thread and reloads when
it moves, so a change reaches every process within the poll interval plus a
reload (a few milliseconds) — well inside a second. The publishing process
also reloads at once after its commit. If the database cannot be read the
process keeps the policy it has (it was valid when loaded) and tries again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from types import MappingProxyType

from sqlalchemy import Engine
from sqlmodel import Session

from api.hub.policies.store import PublishedPolicy, policy_state, published_policy
from api.hub.settings import Settings
from api.web.poller import Poller
from policy.enforcer import PolicyEngine
from policy.rules import Rule

__all__ = ["ActivePolicy", "PolicyService", "rule_label"]

log = logging.getLogger(__name__)


def rule_label(rule_id: int | None) -> str | None:
    """A stored rule's id as audit events and explain output name it (``rule-12``)."""
    return None if rule_id is None else f"rule-{rule_id}"


@dataclass(frozen=True, slots=True)
class ActivePolicy:
    """One loaded policy: the engine, where its rules came from, and its state number."""

    engine: PolicyEngine
    state: int
    rule_ids: MappingProxyType[Rule, int] = field(default_factory=lambda: MappingProxyType({}))
    versions: MappingProxyType[str, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def version(self) -> str:
        """The label audit events record (``v<state>``)."""
        return self.engine.version

    def rule_id(self, rule: Rule | None) -> str | None:
        """The audit label of a deciding rule (``None`` when no rule decided)."""
        return None if rule is None else rule_label(self.rule_ids.get(rule))


def build_active(published: PublishedPolicy) -> ActivePolicy:
    """A warmed engine for ``published`` (deny-all if it fails validation)."""
    policy = published.policy
    engine = PolicyEngine.load_or_deny(policy.rules, policy.sharing, policy.version)
    engine.warm()
    return ActivePolicy(
        engine,
        published.state,
        MappingProxyType(dict(published.rule_ids)),
        MappingProxyType(dict(published.versions)),
    )


class PolicyService:
    """The process's published policy, reloaded whenever ``policy_state`` moves."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.db = engine
        self.settings = settings
        self._active = ActivePolicy(PolicyEngine.unavailable("unloaded"), -1)
        self._reload_lock = threading.Lock()
        self._poller = Poller(
            "policy-poller",
            settings.policy_poll_seconds,
            self.refresh,
            note=lambda: f"keeping {self._active.version}",
        )

    @property
    def active(self) -> ActivePolicy:
        """The policy in force in this process (take it once per request)."""
        return self._active

    def load(self) -> ActivePolicy:
        """Read the published policy and swap it in (whatever the state number)."""
        with self._reload_lock, Session(self.db) as session:
            active = build_active(published_policy(session))
            self._active = active
        log.info("policy %s loaded (%d rules)", active.version, len(active.rule_ids))
        return active

    def refresh(self) -> bool:
        """Reload if another publish happened since the last load; returns whether it did."""
        with Session(self.db) as session:
            state = policy_state(session)
        if state == self._active.state:
            return False
        self.load()
        return True

    def start(self) -> None:
        """Load now and start following publishes (unless polling is turned off).

        A failed poll keeps the last good policy and tries again on time.
        """
        self.load()
        self._poller.start()

    def close(self) -> None:
        """Stop following."""
        self._poller.stop()
