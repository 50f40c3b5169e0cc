"""Memory is bounded by the caches' bounds, whatever documents clients send: the
document cache drops entries by count and by weight, and everything built from a
document (its execution plans included) leaves with it. Measured on a real server
process, as an attacker would see it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.servers import ROOT, gateway_process
from tests.services import free_port

DOCUMENTS = 5_000
ALLOWED_GROWTH_MB = 30
# Documents every execution path plans (plain selections, lists, a single root
# field, the portal's lookahead and its resolver below the root), carrying 20 KB of
# comment that their nodes keep alive through the source.
SELECTION = ("customers(first: 5) { edges { cursor node { id uid email name clientId "
             "metadata createdAt updatedAt } } pageInfo { hasNextPage endCursor } }")
PORTAL = ("portal { customer { id } payments(first: 5) { edges { cursor node { id amount } } "
          "pageInfo { hasNextPage } } paymentLinks { id } subscriptions { id status } }")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def server_pid(port: int) -> int:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in command and str(port).encode() in command:
            return int(entry.name)
    raise AssertionError("server process not found")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_distinct_documents_do_not_grow_memory(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}", "REDIS_URL": "",
           "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING",
           "RATE_LIMIT_PORTAL_READS_PER_MINUTE": "1000000"}
    run_env = {**os.environ, **env}
    subprocess.run([sys.executable, "-m", "gateway", "migrate"], cwd=ROOT, env=run_env,
                   check=True, capture_output=True)
    seeded = json.loads(subprocess.run(
        [sys.executable, "-m", "gateway", "seed-demo", "--json"], cwd=ROOT, env=run_env,
        check=True, capture_output=True, text=True).stdout)
    headers = {"x-makecrypto-key-id": seeded["keyId"],
               "x-makecrypto-key-secret": seeded["secret"]}
    link = json.loads(subprocess.run(
        [sys.executable, "-m", "gateway", "create-portal-link", "--company",
         seeded["companyId"], "--customer", seeded["customerId"], "--json"], cwd=ROOT, env=run_env,
        check=True, capture_output=True, text=True).stdout)
    portal_headers = {"x-makepay-portal": link["portalUrl"].split("?", 1)[1]}
    padding = "# " + "x" * 20_000 + "\n"
    port = free_port()
    with gateway_process(env, port=port) as base:
        pid = server_pid(port)

        async def send(count: int, senders: int = 4) -> None:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                async def sender(share: int) -> None:
                    for i in range(share):
                        portal = i % 2 == 1
                        document = (f"# {uuid.uuid4().hex}\n{padding}query Q{i % 3} "
                                    f"{{ {PORTAL if portal else SELECTION} }}")
                        body = (await client.post(
                            "/graphql", json={"query": document},
                            headers=portal_headers if portal else headers)).json()
                        if portal:
                            assert body["data"]["portal"]["customer"]["id"], body
                        else:
                            assert body["data"]["customers"]["edges"], body

                await asyncio.gather(*(sender(count // senders) for _ in range(senders)))

        asyncio.run(send(50))  # every path warmed up once
        start = rss_mb(pid)
        asyncio.run(send(DOCUMENTS))
        grown = rss_mb(pid) - start
        print(f"RSS {start:.0f} MB, then {start + grown:.0f} MB after {DOCUMENTS} documents")

    assert grown < ALLOWED_GROWTH_MB, f"RSS grew {grown:.0f} MB over {DOCUMENTS} documents"
