"""The hub's services in one typed container, built by the app's lifespan.

One :class:`HubServices` per server process replaces an untyped bag of
``app.state`` attributes: routes and dependencies receive it through
:data:`api.hub.deps.ServicesDep` and name exactly the service they use. The
container is also where the services are wired to each other — the re-link
runner is built here and handed the linking service it drives, rather than
being built inside it — and where they start and stop in a fixed order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from anyio import to_thread
from sqlalchemy import Engine

from api.db import make_engine
from api.hub.audit import EventKind, RequestContext, record_alone
from api.hub.audit.service import AuditService
from api.hub.audit.throttle import AuthFailureThrottle
from api.hub.identity.token_cache import TokenCache
from api.hub.linking.loop_resolve import LoopResolver
from api.hub.linking.relink import RunManager
from api.hub.linking.service import LinkService
from api.hub.migrations import upgrade_database
from api.hub.policies.service import PolicyService
from api.hub.settings import Settings
from api.hub.views.service import SubjectViews
from api.web.metrics import Metrics

__all__ = ["HubServices"]


@dataclass(frozen=True)
class HubServices:
    """Every long-lived service of one hub process."""

    settings: Settings
    metrics: Metrics
    engine: Engine
    master_key: bytes
    tokens: TokenCache
    audit: AuditService
    linking: LinkService
    runs: RunManager
    resolver: LoopResolver | None
    policy: PolicyService
    views: SubjectViews
    auth_failures: AuthFailureThrottle = field(default_factory=AuthFailureThrottle)

    @classmethod
    def start(cls, settings: Settings, metrics: Metrics, *, migrate: bool = True) -> HubServices:
        """Build the engine, migrate, and start every service (and its pollers).

        Raises:
            ConfigurationError: a refused master key or signing key.
        """
        master_key = settings.master_key_bytes()
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        engine = make_engine(settings.database_url)
        if migrate:
            upgrade_database(engine)
        tokens = TokenCache(engine, settings.token_cache_seconds)
        tokens.start()
        audit = AuditService(engine, settings)
        audit.start()
        linking = LinkService(engine, settings, metrics)
        runs = RunManager(linking)
        linking.on_store_grew = runs.maybe_auto_train
        linking.load()
        runs.fail_interrupted()
        policy = PolicyService(engine, settings)
        policy.start()
        views = SubjectViews(engine, settings, policy, master_key)
        resolver = LoopResolver.for_service(linking)
        return cls(
            settings, metrics, engine, master_key, tokens, audit, linking, runs, resolver,
            policy, views,
        )  # fmt: skip

    def close(self) -> None:
        """Stop every service, then dispose of the engine."""
        for client, count in self.auth_failures.drain():  # held back: written on the way out
            record_alone(
                self.engine, EventKind.AUTH_FAILURE, context=RequestContext(None, client),
                decision="deny", details={"cause": "held_back", "count": count},
            )  # fmt: skip
        self.policy.close()
        self.runs.shutdown()
        self.linking.close()
        self.audit.close()
        self.tokens.close()
        if self.resolver is not None:
            self.resolver.close()
        self.engine.dispose()
