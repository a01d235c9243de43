"""The per-process token cache: hits without the store, and never past a revocation or expiry.

Through HTTP: a token revoked by another process (here, straight through the
store, as ``crosswalk admin revoke-token`` does) is refused within one poll
interval. Directly: a cache whose poller fell behind serves nothing, and a
principal read before an invalidation is not remembered after it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, create_engine, text, update

from api.db import session_scope, utcnow
from api.hub.audit import CLI_CONTEXT
from api.hub.identity.service import Principal, revoke_tokens
from api.hub.identity.tables import ApiToken
from api.hub.identity.token_cache import TokenCache
from api.hub.identity.tokens import hash_token
from api.hub.migrations import upgrade_database
from policy.vocabulary import Role
from tests.api.hub import Hub, make_settings, open_hub

ADA = Principal(1, "ada", Role.ADMIN, "county")


def test_a_token_revoked_elsewhere_is_refused_within_one_poll(hub: Hub) -> None:
    hub.user("ada", "admin", "county")
    assert hub.client.get("/v1/admin/clusters", headers=hub.auth("ada")).status_code == 200

    with session_scope(hub.engine) as session:  # another process: this app is not told
        revoke_tokens(session, "ada", context=CLI_CONTEXT)
    revoked_at = time.monotonic()
    statuses = []
    while time.monotonic() - revoked_at < 2.0:
        statuses.append(hub.client.get("/v1/admin/clusters", headers=hub.auth("ada")).status_code)
        if statuses[-1] == 401:
            break
        time.sleep(0.02)
    refused_after = time.monotonic() - revoked_at

    assert statuses[-1] == 401
    assert set(statuses) <= {200, 401}
    # one poll interval, plus the request that noticed it on a busy machine
    assert refused_after <= hub.settings.token_cache_seconds + 0.5


def test_cached_tokens_are_served_without_the_store(hub: Hub) -> None:
    token = hub.user("ada", "admin", "county")
    assert hub.client.get("/v1/admin/clusters", headers=hub.auth("ada")).status_code == 200
    with hub.engine.begin() as connection:  # unseen by the cache: no revocation, no version bump
        connection.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_token(token))  # type: ignore[arg-type]
            .values(token_hash="0" * 64)
        )

    assert hub.client.get("/v1/admin/clusters", headers=hub.auth("ada")).status_code == 200


@pytest.fixture
def uncached(database_url: str) -> Iterator[Hub]:
    yield from open_hub(make_settings(database_url, token_cache_seconds=0))


def test_with_the_cache_off_every_request_reads_the_store(uncached: Hub) -> None:
    token = uncached.user("ada", "admin", "county")
    assert (
        uncached.client.get("/v1/admin/clusters", headers=uncached.auth("ada")).status_code == 200
    )
    with uncached.engine.begin() as connection:
        connection.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_token(token))  # type: ignore[arg-type]
            .values(revoked_at=utcnow())
        )

    response = uncached.client.get("/v1/admin/clusters", headers=uncached.auth("ada"))

    assert response.status_code == 401


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


def test_a_principal_is_served_until_its_token_expires(engine: Engine) -> None:
    cache = TokenCache(engine, poll_seconds=0.25)
    cache.poll()
    cache.remember("a", ADA, utcnow() + timedelta(milliseconds=50), cache.generation)

    assert cache.lookup("a") == ADA
    time.sleep(0.06)
    assert cache.lookup("a") is None


def test_a_version_move_empties_the_cache(engine: Engine) -> None:
    cache = TokenCache(engine, poll_seconds=0.25)
    cache.poll()
    cache.remember("a", ADA, utcnow() + timedelta(hours=1), cache.generation)
    cache.poll()
    assert cache.lookup("a") == ADA  # nothing moved

    with engine.begin() as connection:
        connection.execute(text("UPDATE identity_state SET version = version + 1"))
    cache.poll()

    assert cache.lookup("a") is None


def test_a_read_that_raced_an_invalidation_is_not_remembered(engine: Engine) -> None:
    cache = TokenCache(engine, poll_seconds=0.25)
    cache.poll()
    generation = cache.generation  # a request starts reading the store …
    cache.forget_all()  # … a revocation lands …
    cache.remember("a", ADA, utcnow() + timedelta(hours=1), generation)  # … it finishes

    assert cache.lookup("a") is None


def test_a_poller_that_fell_behind_serves_nothing(engine: Engine) -> None:
    cache = TokenCache(engine, poll_seconds=0.01)
    cache.poll()
    cache.remember("a", ADA, utcnow() + timedelta(hours=1), cache.generation)
    assert cache.lookup("a") == ADA

    time.sleep(0.06)  # four intervals and more without a successful poll

    assert cache.lookup("a") is None


def test_nothing_is_cached_before_the_first_poll_or_with_caching_off(engine: Engine) -> None:
    never_polled = TokenCache(engine, poll_seconds=0.25)
    off = TokenCache(engine, poll_seconds=0)
    for cache in (never_polled, off):
        cache.remember("a", ADA, utcnow() + timedelta(hours=1), cache.generation)
        assert cache.lookup("a") is None
