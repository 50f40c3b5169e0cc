"""Webhook test plumbing: GraphQL documents and a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook

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
    tls: ssl.SSLContext | None = None  # https, with the certificate of loopback_tls()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/hooks"

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
            if self.tls is not None:  # TLS says goodbye first: wait, or drop it
                try:
                    await asyncio.wait_for(writer.wait_closed(), 1)
                except (TimeoutError, OSError, ssl.SSLError):
                    writer.transport.abort()


@asynccontextmanager
async def receiver(**options: Any) -> AsyncIterator[Receiver]:
    """`port`: a port of the test's choice (an endpoint may point there before)."""
    recv = Receiver(**options)
    server = await asyncio.start_server(recv._serve, "127.0.0.1", recv.port, ssl=recv.tls)
    recv.port = server.sockets[0].getsockname()[1]
    try:
        yield recv
    finally:
        recv.released.set()
        server.close()


@contextmanager
def receiver_thread(**options: Any) -> Iterator[Receiver]:
    """`receiver` on an event loop of its own thread, for a test that blocks (a
    synchronous HTTP client, a subprocess) while deliveries arrive."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    serving = receiver(**options)

    async def stop() -> None:
        await serving.__aexit__(None, None, None)
        tasks = asyncio.all_tasks() - {asyncio.current_task()}
        for task in tasks:  # open keep-alive connections
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        yield asyncio.run_coroutine_threadsafe(serving.__aenter__(), loop).result(10)
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def loopback_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate for 127.0.0.1: the receiver's server context, and the
    certificate's file for a delivering process to trust (SSL_CERT_FILE)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "receiver.pem", directory / "receiver.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


def verified(secret: str, request: Received) -> dict[str, Any]:
    """The payload, once the standardwebhooks library has accepted its signature."""
    payload: dict[str, Any] = Webhook(secret).verify(request.body, request.headers)
    return payload


def ids_of(recv: Receiver) -> list[str]:
    return [request.headers["webhook-id"] for request in recv.requests]


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
