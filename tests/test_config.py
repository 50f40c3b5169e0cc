from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config import Settings


def test_plain_database_urls_get_async_drivers() -> None:
    assert Settings(database_url="postgresql://u@h/db").async_database_url == "postgresql+asyncpg://u@h/db"
    assert Settings(database_url="sqlite:///x.db").async_database_url == "sqlite+aiosqlite:///x.db"


def test_signing_secrets_are_a_comma_separated_list_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_SIGNING_SECRETS", "n" * 32 + " , " + "o" * 32)
    assert Settings().portal_signing_secrets == ["n" * 32, "o" * 32]


@pytest.mark.parametrize(("field", "value"), [
    ("database_url", "mysql://x"),
    ("redis_url", "http://x"),
    ("portal_base_url", "makepay.io"),
    ("portal_base_url", "https://makepay.io/path"),
    ("portal_signing_secrets", ["short"]),
    ("rate_limit_links_per_minute", 0),
])
def test_bad_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        Settings(**{field: value})


def test_production_refuses_development_defaults() -> None:
    with pytest.raises(ValidationError, match="PORTAL_SIGNING_SECRETS"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="API_KEY_PEPPER"):
        Settings(environment="production", portal_signing_secrets=["s" * 32])


def test_production_turns_graphiql_and_introspection_off_by_default() -> None:
    settings = Settings(environment="production", portal_signing_secrets=["s" * 32],
                        api_key_pepper="p" * 32)
    assert not settings.graphiql_enabled
    assert not settings.introspection_enabled
    assert Settings().graphiql_enabled


@pytest.mark.parametrize("redis_url", [None, "unix:///run/redis.sock"])
def test_a_cluster_needs_a_node_url(redis_url: str | None) -> None:
    with pytest.raises(ValidationError, match="REDIS_CLUSTER"):
        Settings(redis_cluster=True, redis_url=redis_url)


def test_a_cluster_is_named_by_one_node() -> None:
    settings = Settings(redis_cluster=True, redis_url="redis://10.0.0.5:7000/0")
    assert (settings.redis_cluster, settings.redis_url) == (True, "redis://10.0.0.5:7000/0")


@pytest.mark.parametrize(("database_url", "read_url"), [
    ("sqlite:///x.db", "postgresql://u@replica/db"),
    ("postgresql://u@primary/db", "sqlite:///x.db"),
])
def test_a_read_replica_is_a_postgresql_replica_of_postgresql(database_url: str, read_url: str) -> None:
    with pytest.raises(ValidationError):
        Settings(database_url=database_url, database_read_url=read_url)
