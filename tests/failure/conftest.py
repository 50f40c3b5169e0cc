from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway import migrate
from gateway.config import Settings
from tests.services import PrivatePostgres


@pytest.fixture(scope="session")
async def _private_postgres_server() -> AsyncIterator[PrivatePostgres]:
    server = await asyncio.to_thread(PrivatePostgres)
    await asyncio.to_thread(server.start)
    await asyncio.to_thread(migrate.upgrade, Settings(database_url=server.url, environment="test"))
    yield server
    await asyncio.to_thread(server.cleanup)


@pytest.fixture
async def private_postgres(_private_postgres_server: PrivatePostgres) -> PrivatePostgres:
    await asyncio.to_thread(_private_postgres_server.start)  # a test may have left it stopped
    return _private_postgres_server
