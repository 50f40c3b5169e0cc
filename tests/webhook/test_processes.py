"""Delivery workers as real processes: killed, doubled, restarted; the database
restarted under them. At least once, never twice at the same time, nothing lost."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from gateway.event.service import EventService, Source
from tests.factories import create_api_key, create_company
from tests.operations.processes import GATEWAY, base_env
from tests.portal.conftest import Tenant, make_tenant
from tests.services import PrivatePostgres, free_port
from tests.support import Gateway
from tests.webhook.support import Receiver, create_endpoint, receiver

pytestmark = pytest.mark.slow


@contextmanager
def worker_process(gw: Gateway, log: Path, *, concurrency: int = 4,
                   **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    env = base_env(
        ENVIRONMENT="test", DATABASE_URL=gw.settings.database_url,
        API_KEY_PEPPER=gw.settings.api_key_pepper, WEBHOOK_TIMEOUT_SECONDS="1",
        WEBHOOK_POLL_SECONDS="0.1", LOG_LEVEL="INFO", **extra)
    with log.open("ab") as out:
        process = subprocess.Popen([GATEWAY, "worker", "--concurrency", str(concurrency)],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def eventually(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {seconds} s")
        await asyncio.sleep(0.05)


async def add_events(gw: Gateway, company_id: str, count: int) -> set[str]:
    async with gw.state.session_factory() as session:
        service = EventService(session, gw.clock)
        ids = []
        for index in range(count):
            event = await service.emit(company_id, "customer.updated", Source.merchant_api,
                                       {"index": index})
            ids.append(event.body.split('"id":"', 1)[1].split('"', 1)[0])
        await session.commit()
    return set(ids)


def ids_of(recv: Receiver) -> list[str]:
    return [request.headers["webhook-id"] for request in recv.requests]


class TestKilled:
    async def test_a_worker_killed_mid_delivery_leaves_it_to_another(
        self, tenant: Tenant, tmp_path: Path
    ) -> None:
        async with receiver(hang_first=1) as recv:
            await create_endpoint(tenant, recv.url)
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            with worker_process(tenant.gw, tmp_path / "a.log") as first:
                await eventually(lambda: len(recv.requests) == 1, "attempted by the first")
                first.send_signal(signal.SIGKILL)
                first.wait()
            with worker_process(tenant.gw, tmp_path / "b.log"):
                # After the first worker's lease (2 x 1 s + 5 s) runs out.
                await eventually(lambda: len(recv.requests) == 2, "delivered by the second")
                await asyncio.sleep(1)

        first_try, delivered = ids_of(recv)
        assert first_try == delivered
        assert len(recv.requests) == 2

    async def test_events_committed_while_no_worker_runs_are_delivered_when_one_starts(
        self, tenant: Tenant, tmp_path: Path
    ) -> None:
        async with receiver() as recv:
            await create_endpoint(tenant, recv.url)
            with worker_process(tenant.gw, tmp_path / "a.log") as first:
                first.send_signal(signal.SIGKILL)
                first.wait()
            await tenant.portal('mutation { updatePortalDisplayName(name: "Ada K") { name } }')
            expected = await add_events(tenant.gw, tenant.company.id, 5)
            assert recv.requests == []
            with worker_process(tenant.gw, tmp_path / "b.log"):
                await eventually(lambda: len(recv.requests) == 6, "delivered after restart")

        assert expected < set(ids_of(recv))


class TestTwoWorkers:
    async def test_a_thousand_events_each_delivered_exactly_once(
        self, gw: Gateway, tmp_path: Path
    ) -> None:
        if gw.backend != "postgres":
            pytest.skip("several worker processes share a PostgreSQL database")
        company = await create_company(gw)
        tenant = Tenant(gw, company, None, await create_api_key(gw, company.id), {})  # type: ignore[arg-type]
        async with receiver() as recv:
            await create_endpoint(tenant, recv.url)
            expected = await add_events(gw, company.id, 1000)
            with worker_process(gw, tmp_path / "a.log", concurrency=8), \
                    worker_process(gw, tmp_path / "b.log", concurrency=8):
                await eventually(lambda: len(recv.requests) >= 1000, "all delivered", 120)
                await asyncio.sleep(1)  # a duplicate would arrive now

        assert len(recv.requests) == 1000
        assert set(ids_of(recv)) == expected


class TestOutages:
    async def test_postgres_restarted_during_delivery_and_no_redis_lose_nothing(
        self, start_gateway: Callable[..., Any], private_postgres: PrivatePostgres,
        tmp_path: Path
    ) -> None:
        gw: Gateway = await start_gateway(database_url=private_postgres.url)
        if gw.backend != "postgres":
            pytest.skip("one run is enough: the database is the private PostgreSQL")
        tenant = await make_tenant(gw, "Outage")
        async with receiver(delay=0.05) as recv:
            await create_endpoint(tenant, recv.url)
            expected = await add_events(gw, tenant.company.id, 60)
            await gw.state.engine.dispose()
            # The worker never needs Redis: one that cannot be reached changes nothing.
            with worker_process(gw, tmp_path / "w.log", concurrency=2,
                                REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
                await eventually(lambda: len(recv.requests) >= 10, "started delivering")
                await asyncio.to_thread(private_postgres.stop)
                await asyncio.sleep(2)
                await asyncio.to_thread(private_postgres.start)
                await eventually(lambda: expected <= set(ids_of(recv)), "all delivered", 90)

        assert expected == set(ids_of(recv))

