"""Real services: PostgreSQL and Redis over real connections, and SQLite.

TEST_POSTGRES_URL and TEST_REDIS_URL (written by scripts/services) name the servers.
Each run gets its own PostgreSQL database and SQLite file, each test its own Redis
key prefix; tables are emptied after every test."""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway import migrate
from gateway.app import create_app
from gateway.config import Settings
from tests.services import PrivateRedis, running_cluster
from tests.support import Gateway, TestClock, temporary_database

# Property and fuzz tests run the same cases on every run (derandomized: a fixed
# seed per test), so CI is repeatable and bounded; HYPOTHESIS_PROFILE=explore varies them.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None)
hypothesis_settings.register_profile("explore", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

RUN_ID = uuid.uuid4().hex[:10]
TABLES = ["webhook_attempts", "webhook_deliveries", "webhook_endpoints", "events",
          "audit_events", "settings_changes", "portal_revocations", "memberships", "users",
          "subscriptions", "payment_links", "payments", "customers", "api_keys", "companies"]
SIGNING_SECRETS = ["test-signing-secret-newest-0123456789abcdef",
                   "test-signing-secret-older-0123456789abcdefgh"]
_prefixes = itertools.count()

BACKENDS = [
    pytest.param(("sqlite", "memory"), id="sqlite-memory"),
    pytest.param(("postgres", "redis"), id="postgres-redis"),
]


def _server_url(name: str, default: str) -> str:
    return os.environ.get(name, default)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    return _server_url("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def redis_url() -> str:
    return _server_url("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
async def postgres_url(postgres_server_url: str) -> AsyncIterator[str]:
    async with temporary_database(postgres_server_url, f"gw_test_{RUN_ID}") as url:
        await asyncio.to_thread(migrate.upgrade, Settings(database_url=url, environment="test"))
        yield url


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "gateway.db"
    url = f"sqlite:///{path}"
    await asyncio.to_thread(migrate.upgrade, Settings(database_url=url, environment="test"))
    return url


@pytest.fixture(scope="session")
async def redis_cleanup(redis_url: str) -> AsyncIterator[None]:
    yield
    client = Redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=f"t{RUN_ID}*", count=1000):
            await client.delete(key)
    finally:
        await client.aclose()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A Redis server of the test's own: to stop, freeze, or watch every command of."""
    server = PrivateRedis()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """A Redis Cluster of three primaries and three replicas for the whole run, started
    on first use. Each test has its own key prefix, as on the shared Redis."""
    with running_cluster() as cluster:
        yield cluster.url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> tuple[str, str]:
    value: tuple[str, str] = request.param
    return value


@pytest.fixture
def database_url(backend: tuple[str, str], request: pytest.FixtureRequest) -> str:
    fixture = "postgres_url" if backend[0] == "postgres" else "sqlite_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def make_settings(
    backend: tuple[str, str], database_url: str, redis_url: str, redis_cleanup: None,
    request: pytest.FixtureRequest,
) -> Callable[..., Settings]:
    prefix = f"t{RUN_ID}{next(_prefixes)}"
    store_url = {"memory": None, "redis": redis_url}.get(backend[1])
    if backend[1] == "cluster":
        store_url = request.getfixturevalue("redis_cluster_url")

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": database_url,
            "redis_url": store_url,
            "redis_cluster": backend[1] == "cluster",
            "redis_key_prefix": prefix,
            "portal_signing_secrets": SIGNING_SECRETS,
            "portal_base_url": "https://makepay.io",
            "api_key_pepper": "test-api-key-pepper-0123456789abcdefghij",
            # Tests run delivery workers themselves (tests/webhook/).
            "webhook_worker": "external",
        }
        if "redis_url" in overrides:  # a Redis of the test's own: a single Redis
            values["redis_cluster"] = False
        values.update(overrides)
        return Settings(**values)

    return make


async def _truncate(url: str) -> None:
    settings = Settings(database_url=url, environment="test")
    engine: AsyncEngine = create_async_engine(settings.async_database_url)
    try:
        async with engine.begin() as conn:
            if settings.is_sqlite:
                for table in TABLES:
                    await conn.execute(text(f"DELETE FROM {table}"))
            else:
                await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
async def start_gateway(
    backend: tuple[str, str], make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[Callable[..., Any]]:
    """Starts gateways (lifespan included) over httpx; several may share one backend."""
    stack: list[Any] = []

    async def start(clock: TestClock | None = None, client_ip: str = "203.0.113.7",
                    **overrides: Any) -> Gateway:
        settings = make_settings(**overrides)
        clock = clock or TestClock()
        app = create_app(settings, clock=clock)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        stack.append((lifespan, client))
        return Gateway(app=app, client=client, settings=settings, clock=clock,
                       backend=backend[0], store_kind=backend[1])

    yield start
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)
    await _truncate(database_url)


@pytest.fixture
async def gw(start_gateway: Callable[..., Any]) -> Gateway:
    gateway: Gateway = await start_gateway()
    return gateway
