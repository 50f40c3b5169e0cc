"""Webhook test plumbing: GraphQL documents and a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from gateway.webhook.worker import DeliveryWorker
from tests.portal.conftest import Tenant
from tests.support import Gateway

CREATE = """mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    secret endpoint { id url eventTypes description enabled disabledReason createdAt }
  }
}"""
DELIVERIES = """query($id: ID!, $first: Int, $after: String) {
  webhookDeliveries(endpointId: $id, first: $first, after: $after) {
    edges { node { id eventId number statusCode durationMs error responseBody nextAttemptAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def create_endpoint(tenant: Tenant, url: str, **fields: Any) -> tuple[str, str]:
    """The new endpoint's id and secret."""
    data = await tenant.gw.gql_data(CREATE, {"input": {"url": url, **fields}}, tenant.api_key)
    created = data["createWebhookEndpoint"]
    return created["endpoint"]["id"], created["secret"]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records each request and answers with the
    next status of `statuses` (the last one repeats); `hang` answers nothing."""

    statuses: list[int] = field(default_factory=lambda: [200])
    hang: bool = False
    hang_first: int = 0  # hang on this many first requests, then answer
    delay: float = 0.0
    dribble: bool = False  # a slowloris answer: headers, then one byte at a time, forever
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    answer: bytes = b"ok"
    released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(Received(headers, body))
                if self.hang or len(self.requests) <= self.hang_first:
                    await self.released.wait()
                    return
                if self.delay:
                    await asyncio.sleep(self.delay)
                if self.dribble:
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n")
                    while not self.released.is_set():
                        writer.write(b"x")
                        await writer.drain()
                        await asyncio.sleep(0.05)
                    return
                status = self.statuses[min(len(self.requests) - 1, len(self.statuses) - 1)]
                writer.write(b"HTTP/1.1 %d X\r\ncontent-length: %d\r\n\r\n%s"
                             % (status, len(self.answer), self.answer))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def receiver(**options: Any) -> AsyncIterator[Receiver]:
    recv = Receiver(**options)
    server = await asyncio.start_server(recv._serve, "127.0.0.1", 0)
    recv.port = server.sockets[0].getsockname()[1]
    try:
        yield recv
    finally:
        recv.released.set()
        server.close()


@asynccontextmanager
async def worker_for(gw: Gateway, **options: Any) -> AsyncIterator[DeliveryWorker]:
    """A delivery worker on the gateway's database and clock (not started: call drain)."""
    worker = DeliveryWorker(gw.state.session_factory, gw.clock, gw.settings, **options)
    try:
        yield worker
    finally:
        await worker.close()


async def deliveries(tenant: Tenant, endpoint_id: str, first: int = 100) -> list[dict[str, Any]]:
    data = await tenant.gw.gql_data(DELIVERIES, {"id": endpoint_id, "first": first},
                                    tenant.api_key)
    return [edge["node"] for edge in data["webhookDeliveries"]["edges"]]
