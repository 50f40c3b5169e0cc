"""Real uvicorn processes (`gateway serve`) over the same PostgreSQL and Redis:
graceful shutdown, a rolling restart, logs and metrics across workers."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest

from tests.operations.processes import GatewayProcess, cli, start_all
from tests.services import port_open, wait_until

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple 7"
CREATE_CUSTOMER = 'mutation { createCustomer(input: {email: "buyer@example.com"}) { uid } }'


def merchant(env: dict[str, str]) -> dict[str, str]:
    company = cli(env, "create-company", "--name", "Acme")
    key = cli(env, "create-api-key", "--company", str(company["id"]))
    return {"x-makecrypto-key-id": str(key["keyId"]),
            "x-makecrypto-key-secret": str(key["secret"])}


def new_customer(gateway: GatewayProcess, headers: dict[str, str]) -> str:
    response = httpx.post(f"{gateway.url}/graphql", json={"query": CREATE_CUSTOMER},
                          headers=headers, timeout=10)
    uid: str = response.json()["data"]["createCustomer"]["uid"]
    return uid


def link_route(gateway: GatewayProcess, customer: str) -> str:
    return f"{gateway.url}/api/partner/v1/makepay/customers/{customer}/portal"


async def test_no_request_is_dropped_while_one_of_two_processes_restarts(
    process_env: dict[str, str], launch: Callable[..., GatewayProcess], tmp_path: Path,
) -> None:
    env = {**process_env, "SHUTDOWN_DRAIN_SECONDS": "1"}
    headers = merchant(env)
    a, b = launch(env, "a"), launch(env, "b")
    start_all(a, b)
    customer = new_customer(a, headers)
    replacement = launch(env, "a2", port=a.port)
    outcomes: list[tuple[str, int]] = []
    dropped: list[str] = []
    draining_seen = False

    async def in_rotation(client: httpx.AsyncClient, target: GatewayProcess) -> bool:
        # The load balancer's health check.
        nonlocal draining_seen
        try:
            response = await client.get(f"{target.url}/readyz")
        except httpx.TransportError:
            return False
        draining_seen |= response.json().get("draining", False)
        return response.status_code == 200

    async def send(client: httpx.AsyncClient, targets: list[GatewayProcess]) -> None:
        # A refused connection never reached a process: the balancer tries the next one.
        # A request that reached a process is never sent again.
        for target in targets:
            try:
                response = await client.post(link_route(target, customer), headers=headers)
            except httpx.ConnectError:
                continue
            except httpx.TransportError as exc:
                dropped.append(repr(exc))
                return
            outcomes.append((target.log_path.stem, response.status_code))
            return
        dropped.append("no process took the request")

    # No keep-alive: each request opens its own connection, as through a proxy.
    async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0),
                                 timeout=20) as client:
        served_after_restart = 0
        for batch in range(200):
            first = replacement if replacement.process is not None else a
            pool = [t for t in (first, b) if await in_rotation(client, t)] or [b]
            tasks = [asyncio.create_task(send(client, pool[i % len(pool):] + pool[:i % len(pool)]))
                     for i in range(8)]
            if batch == 3:
                await asyncio.sleep(0.005)  # requests are in flight on both processes
                a.terminate()
            await asyncio.gather(*tasks)
            if a.exited and replacement.process is None:
                replacement.spawn()  # the orchestrator starts the new version on the same port
            if replacement.process is not None and replacement in pool:
                served_after_restart += 1
                if served_after_restart >= 3:
                    break
            await asyncio.sleep(0.05)

    assert dropped == []
    assert outcomes
    assert all(status == 200 for _, status in outcomes), outcomes
    assert draining_seen  # the stopping process told the balancer before it stopped
    assert {name for name, _ in outcomes} == {"a", "b", "a2"}
    assert a.stopped_cleanly()
    replacement.terminate()
    b.terminate()
    assert replacement.stopped_cleanly()
    assert b.stopped_cleanly()


async def test_a_request_in_flight_at_sigterm_completes(
    process_env: dict[str, str], launch: Callable[..., GatewayProcess], tmp_path: Path,
) -> None:
    headers = merchant(process_env)
    gateway = launch(process_env, "drain").start()
    customer = new_customer(gateway, headers)
    body = orjson.dumps({"query": "mutation($c: ID!) { createPortalLink(customerId: $c) { expiresAt } }",
                         "variables": {"c": customer}})
    head = (f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()

    with socket.create_connection(("127.0.0.1", gateway.port), timeout=20) as conn:
        conn.sendall(head + body[:10])  # the request has begun: headers and part of its body
        await asyncio.sleep(0.3)
        gateway.terminate()
        # The process stops accepting new connections while this one is still open...
        await asyncio.to_thread(wait_until, lambda: not port_open(gateway.port),
                                "the listener did not close")
        assert not gateway.exited
        conn.sendall(body[10:])  # ...and the request in flight still gets its answer.
        response = b""
        while chunk := conn.recv(65536):
            response += chunk

    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK"
    assert b'"createPortalLink":{"expiresAt"' in rest
    assert b"connection: close" in rest.lower()
    assert gateway.stopped_cleanly()


async def test_logs_are_json_with_request_ids_and_no_secrets(
    process_env: dict[str, str], launch: Callable[..., GatewayProcess], tmp_path: Path,
) -> None:
    headers = merchant(process_env)
    cli(process_env, "create-user", "--email", "ops@example.com", "--password", PASSWORD)
    gateway = launch(process_env, "logs").start()
    customer = new_customer(gateway, headers)
    async with httpx.AsyncClient(timeout=10) as client:
        link = (await client.post(link_route(gateway, customer), headers=headers)).json()
        url: str = link["customer"]["urls"]["customerPortal"]
        query = url.split("?", 1)[1]
        signature = re.search(r"signature=([0-9a-f]{64})", url).group(1)  # type: ignore[union-attr]
        # Requests that carry credentials where a careless log would print them.
        await client.get(f"{gateway.url}/billing?{query}")
        await client.post(f"{gateway.url}/graphql?{query}", json={"query": "{ __typename }"},
                          headers={"x-makepay-portal": query})
        await client.post(link_route(gateway, customer), headers={
            **headers, "x-makecrypto-key-secret": "wrong-" + headers["x-makecrypto-key-secret"]})
        await client.post(link_route(gateway, customer),
                          headers={"x-request-id": "trace-42", **headers})
        # A dashboard sign-in: its password, session cookie and CSRF token.
        await client.post(f"{gateway.url}/api/auth/login",
                          json={"email": "ops@example.com", "password": "wrong-" + PASSWORD})
        login = await client.post(f"{gateway.url}/api/auth/login",
                                  json={"email": "ops@example.com", "password": PASSWORD})
        session_id = login.cookies["makepay_session"]
        csrf = login.json()["csrfToken"]
        await client.post(f"{gateway.url}/api/auth/logout", headers={"x-csrf-token": csrf})
    gateway.terminate()
    assert gateway.stopped_cleanly()

    lines = gateway.log_lines()
    records = [orjson.loads(line) for line in lines]  # every line is one JSON object
    access = [r for r in records if r["logger"] == "gateway.access"]
    assert len(access) >= 6
    assert all(r["request_id"] for r in access)
    assert any(r["request_id"] == "trace-42" and r["status"] == 200 for r in access)
    assert any(r["path"] == "/billing" for r in access)
    text = "\n".join(lines)
    assert any(r["path"] == "/api/auth/login" and r["status"] == 200 for r in access)
    for secret in (headers["x-makecrypto-key-secret"], signature, "signature=", PASSWORD,
                   session_id, csrf):
        assert secret not in text


async def test_metrics_add_up_across_worker_processes(
    process_env: dict[str, str], launch: Callable[..., GatewayProcess], tmp_path: Path,
) -> None:
    token = "metrics-token-for-the-scraper-0123456789"
    env = {**process_env, "SHUTDOWN_DRAIN_SECONDS": "1", "METRICS_TOKEN": token}
    gateway = launch(env, "workers", workers=2).start(from_env=True)
    route = "/api/partner/v1/makepay/customers/{customer_id}/portal"
    metrics_dir = tmp_path / "metrics"

    def writers() -> set[str]:
        # Each process writes files named by metric type and its process id.
        return {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("*.db")}

    sent = 0
    limits = httpx.Limits(max_keepalive_connections=0)  # a connection each: both workers serve
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        while sent < 40 or (len(writers()) < 2 and sent < 400):
            await asyncio.gather(*(client.post(f"{gateway.url}{route.replace('{customer_id}', 'x')}")
                                   for _ in range(10)))
            sent += 10
        scrapes = [(await client.get(f"{gateway.url}/metrics",
                                     headers={"authorization": f"Bearer {token}"})).text
                   for _ in range(6)]
        # SIGTERM to the supervisor reaches both workers, which drain before stopping.
        gateway.terminate()
        for _ in range(100):  # until the signal has arrived
            ready = await client.get(f"{gateway.url}/readyz")
            if ready.status_code == 503:
                break
            await asyncio.sleep(0.02)
        draining = [(await client.get(f"{gateway.url}/readyz")).json() for _ in range(4)]
        served = await client.get(f"{gateway.url}/healthz")
    assert ready.json()["draining"] is True
    assert all(body.get("draining") for body in draining), draining
    assert served.status_code == 200  # still serving while it drains
    assert gateway.stopped_cleanly()

    def total(scrape: str, pattern: str) -> float:
        return sum(float(v) for v in re.findall(pattern + r"\} (\S+)", scrape))

    assert len(writers()) == 2
    requests = r'gateway_requests_total\{operation="",route="' + re.escape(route) + r'",status="'
    for scrape in scrapes:  # whichever worker answered the scrape, it reports both
        unauthenticated = total(scrape, requests + r'401"')
        limited = total(scrape, requests + r'429"')
        assert unauthenticated + limited == sent, scrape
        # Past the budget of 20 failed authentications a minute the IP gets 429 (a few
        # concurrent requests may pass the check before the 20th failure is recorded).
        assert 20 <= unauthenticated < sent
        assert total(scrape, r'gateway_rate_limit_rejections_total\{budget="auth_failures"') == (
            limited)
