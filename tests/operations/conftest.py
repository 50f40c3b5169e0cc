from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.config import Settings
from tests.conftest import RUN_ID, SIGNING_SECRETS, TABLES
from tests.operations.processes import GatewayProcess, base_env

_prefixes = itertools.count()


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., GatewayProcess]]:
    """Makes gateway processes, and kills whatever a failing test left running."""
    made: list[GatewayProcess] = []

    def make(env: dict[str, str], name: str, **options: Any) -> GatewayProcess:
        gateway = GatewayProcess(env, tmp_path, name, **options)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.kill()


@pytest.fixture
async def process_env(postgres_url: str, redis_url: str, redis_cleanup: None,
                      tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The environment of gateway processes that share this run's PostgreSQL database
    and Redis (under this run's key prefix), production settings, JSON logs."""
    yield base_env(
        ENVIRONMENT="production",
        DATABASE_URL=postgres_url,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=f"t{RUN_ID}p{next(_prefixes)}",
        PORTAL_SIGNING_SECRETS=",".join(SIGNING_SECRETS),
        API_KEY_PEPPER="test-api-key-pepper-0123456789abcdefghij",
        RATE_LIMIT_LINKS_PER_MINUTE="100000",
        LOG_JSON="true",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    # The processes wrote through their own connections: empty the tables as the
    # in-process tests' teardown does.
    engine = create_async_engine(Settings(database_url=postgres_url).async_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    finally:
        await engine.dispose()
