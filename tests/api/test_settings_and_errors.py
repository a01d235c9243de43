"""Settings refuse unsafe secrets; every domain error has an HTTP status.

The error check walks :class:`api.errors.ServiceError`'s subclasses after
importing every ``api`` module, so an error class added anywhere in the service
without a status code fails here instead of answering 500.
"""

from __future__ import annotations

import base64
import importlib
import pkgutil
import secrets
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

import api
from api.errors import ConfigurationError, ServiceError
from api.hub.app import create_app
from api.hub.settings import DEV_MASTER_KEY, Settings
from api.web.error_handlers import STATUS_BY_ERROR, install_error_handlers


def _all_subclasses(root: type[ServiceError]) -> set[type[ServiceError]]:
    found = set()
    for child in root.__subclasses__():
        found |= {child, *_all_subclasses(child)}
    return found


def _import_every_api_module() -> None:
    for module in pkgutil.walk_packages(api.__path__, "api."):
        if not module.name.startswith("api.hub.migrations"):  # env.py runs a migration on import
            importlib.import_module(module.name)


_import_every_api_module()
SERVICE_ERRORS = sorted(_all_subclasses(ServiceError), key=lambda kind: kind.__name__)


def test_the_subclass_walk_finds_the_documented_errors() -> None:
    assert len(SERVICE_ERRORS) >= 8


@pytest.mark.parametrize("kind", SERVICE_ERRORS, ids=lambda kind: kind.__name__)
def test_every_service_error_has_a_status(kind: type[ServiceError]) -> None:
    assert any(issubclass(kind, mapped) for mapped in STATUS_BY_ERROR), kind


@pytest.fixture(scope="module")
def raising_client() -> TestClient:
    """An app whose route raises the service error it is asked for."""
    app = FastAPI()
    install_error_handlers(app)
    by_name = {kind.__name__: kind for kind in SERVICE_ERRORS}

    @app.get("/raise/{name}")
    def raise_it(name: str) -> None:
        raise by_name[name]("refused")

    return TestClient(app)


@pytest.mark.parametrize(
    ("kind", "status"), list(STATUS_BY_ERROR.items()), ids=lambda v: getattr(v, "__name__", v)
)
def test_each_error_answers_its_status_with_its_message(
    raising_client: TestClient, kind: type[ServiceError], status: int
) -> None:
    response = raising_client.get(f"/raise/{kind.__name__}")

    assert response.status_code == status
    assert response.json() == {"detail": "refused"}
    assert ("www-authenticate" in response.headers) == (status == 401)


def test_statuses_are_client_or_unavailable_errors_except_refused_configuration() -> None:
    for kind, status in STATUS_BY_ERROR.items():
        if kind is ConfigurationError:
            assert status == 500  # the operator's settings, never the request's content
        else:
            assert 400 <= status < 500 or status == 503, kind


GOOD_KEY = secrets.token_hex(32)


def test_production_requires_a_master_key() -> None:
    settings = Settings(environment="production", master_key=None)

    with pytest.raises(ConfigurationError, match="CROSSWALK_MASTER_KEY must be set"):
        settings.master_key_bytes()


def test_the_development_key_is_refused_in_production() -> None:
    settings = Settings(environment="production", master_key=SecretStr(DEV_MASTER_KEY))

    with pytest.raises(ConfigurationError, match="development master key"):
        settings.master_key_bytes()


def test_development_falls_back_to_the_development_key() -> None:
    settings = Settings(environment="development", master_key=None)

    assert settings.master_key_bytes() == bytes.fromhex(DEV_MASTER_KEY)


BAD_KEYS = {
    "short-hex": "ab" * 16,
    "long-hex": "ab" * 33,
    "all-zero": "00" * 32,
    "one-byte-repeated": "7f" * 32,
    "counting": bytes(range(32)).hex(),
    "short-period": ("0123456789abcdef" * 2).encode().hex(),
    "not-hex-or-base64": "correct horse battery staple",
    "empty": "",
    "short-base64": base64.urlsafe_b64encode(secrets.token_bytes(16)).decode(),
}


@pytest.mark.parametrize("environment", ["production", "development"])
@pytest.mark.parametrize("key", list(BAD_KEYS.values()), ids=list(BAD_KEYS))
def test_weak_or_malformed_master_keys_are_refused(environment: str, key: str) -> None:
    settings = Settings(environment=environment, master_key=SecretStr(key))  # type: ignore[arg-type]

    with pytest.raises(ConfigurationError, match="CROSSWALK_MASTER_KEY"):
        settings.master_key_bytes()


@pytest.mark.parametrize(
    "text",
    [
        GOOD_KEY,
        GOOD_KEY.upper(),
        f"  {GOOD_KEY}\n",
        base64.urlsafe_b64encode(bytes.fromhex(GOOD_KEY)).decode(),
    ],
    ids=["hex", "upper-hex", "padded-whitespace", "base64"],
)
def test_a_random_key_is_accepted_in_production(text: str) -> None:
    settings = Settings(environment="production", master_key=SecretStr(text))

    assert settings.master_key_bytes() == bytes.fromhex(GOOD_KEY)


def test_the_master_key_stays_out_of_the_settings_repr() -> None:
    settings = Settings(environment="production", master_key=SecretStr(GOOD_KEY))

    assert GOOD_KEY not in repr(settings)
    assert GOOD_KEY not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db:5432/hub", "postgresql+psycopg://u:p@db:5432/hub"),
        ("postgres://u@db/hub?sslmode=require", "postgresql+psycopg://u@db/hub?sslmode=require"),
        ("postgresql+psycopg://u@db/hub", "postgresql+psycopg://u@db/hub"),
        ("postgresql+asyncpg://u@db/hub", "postgresql+asyncpg://u@db/hub"),
        ("sqlite:///crosswalk.db", "sqlite:///crosswalk.db"),
    ],
    ids=["postgresql", "postgres-alias", "explicit-psycopg", "other-driver", "sqlite"],
)
def test_plain_postgresql_urls_use_psycopg(given: str, used: str) -> None:
    assert Settings(database_url=given).database_url == used


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSWALK_DATABASE_URL", "postgresql://u@db/hub")
    monkeypatch.setenv("CROSSWALK_ENVIRONMENT", "development")
    monkeypatch.setenv("CROSSWALK_MAX_BATCH_RECORDS", "10")

    settings = Settings()

    assert (settings.database_url, settings.environment, settings.max_batch_records) == (
        "postgresql+psycopg://u@db/hub",
        "development",
        10,
    )


def test_settings_default_to_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CROSSWALK_ENVIRONMENT", raising=False)
    monkeypatch.delenv("CROSSWALK_MASTER_KEY", raising=False)

    settings = Settings()

    assert settings.environment == "production"
    with pytest.raises(ConfigurationError, match="must be set"):
        settings.master_key_bytes()


@pytest.mark.parametrize(
    "key", [None, DEV_MASTER_KEY, "00" * 32], ids=["missing", "development", "weak"]
)
def test_a_production_app_without_a_usable_key_fails_at_start_up(
    tmp_path: Path, key: str | None
) -> None:
    database = tmp_path / "hub.db"
    settings = Settings(
        database_url=f"sqlite:///{database}",
        environment="production",
        master_key=None if key is None else SecretStr(key),
    )
    app = create_app(settings)

    with pytest.raises(ConfigurationError, match=r"master key|MASTER_KEY"), TestClient(app):
        pass  # pragma: no cover - start-up must refuse before serving

    assert not database.exists()  # refused before touching the database


def test_a_production_app_with_a_random_key_starts(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'hub.db'}",
        environment="production",
        master_key=SecretStr(GOOD_KEY),
    )

    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200
