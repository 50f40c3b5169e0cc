"""Sending one webhook: a POST with strict limits, to a checked address.

httpcore (the connection layer under httpx, by the same maintainers) is used
directly: it pools connections, takes per-phase timeouts and a network backend of
our own, and follows no redirects at all (a 3xx is simply not a 2xx). On top:
- one deadline for the whole attempt (connect, TLS, send, answer), so a receiver
  that dribbles bytes (slowloris) holds a worker slot for at most the timeout;
- at most 4 KB of the answer read, the rest never downloaded;
- the SSRF guard below, at connect time."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpcore

MAX_RESPONSE_BYTES = 4096
KEEPALIVE_SECONDS = 30.0
MAX_ORIGINS_PER_SLOT = 8
USER_AGENT = b"MakePay-Webhooks/1"


class TargetRefused(httpcore.ConnectError):
    """The name resolved to an address deliveries may not reach."""


def refused_address(address: str) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified, shared (CGNAT)
    or documentation addresses: anything that is not a public unicast address.
    IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself and connects to an address it checked, so the address
    checked is the address used: a name that resolves to a public address when the
    endpoint is saved and to 127.0.0.1 at delivery (DNS rebinding) is still refused.
    TLS still verifies the certificate against the URL's host name (httpcore sends
    the origin's host as SNI, not the address)."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
                          local_address: str | None = None,
                          socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not self.allow_private:
            allowed = [address for address in addresses if not refused_address(address)]
            if not allowed:
                raise TargetRefused(f"{host} resolves to a private or reserved address")
            addresses = allowed
        error: Exception | None = None
        for address in addresses:
            try:
                return _ClosingStream(await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,  # noqa: ASYNC109
                                  socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are never sent to a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _ClosingStream(httpcore.AsyncNetworkStream):
    """Closes the socket when the TLS handshake is interrupted by the attempt's
    deadline (a cancellation, which the stream's own cleanup does not catch), so a
    receiver that never completes TLS leaks no connection."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self.inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self.inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self.inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:  # noqa: ASYNC109
        try:
            return await self.inner.start_tls(ssl_context, server_hostname, timeout)
        except BaseException:
            await asyncio.shield(self.inner.aclose())
            raise

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int | None
    duration_ms: int
    error: str | None
    body: str | None

    @property
    def ok(self) -> bool:
        # A 2xx whose answer did not finish within the deadline is a failure too.
        return self.error is None and self.status_code is not None and (
            200 <= self.status_code < 300)


class Sender:
    """Each worker slot keeps its own keep-alive connections, one per origin (the
    last `MAX_ORIGINS_PER_SLOT`). A shared connection pool checks every idle
    connection for expiry on each request, which cost more than the request itself
    at 32 slots; a slot's own connection is checked alone."""

    def __init__(self, *, timeout: float, allow_private: bool, max_connections: int) -> None:
        self.timeout = timeout
        self.backend = GuardedBackend(allow_private=allow_private)
        self.max_connections = max_connections
        self._connections: dict[int, OrderedDict[tuple[bytes, bytes, int], httpcore.AsyncHTTPConnection]] = {}
        self._timeouts = {"connect": timeout, "read": timeout, "write": timeout,
                          "pool": timeout}
        self._closing: set[asyncio.Future[None]] = set()  # closes in flight, kept referenced

    def _close_later(self, connection: httpcore.AsyncHTTPConnection) -> None:
        closing = asyncio.ensure_future(connection.aclose())
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    def _connection(self, slot: int, origin: httpcore.Origin,
                    fresh: bool = False) -> httpcore.AsyncHTTPConnection:
        kept = self._connections.setdefault(slot, OrderedDict())
        key = (origin.scheme, origin.host, origin.port)
        connection = kept.pop(key, None)
        if connection is not None and (fresh or connection.is_closed()
                                       or connection.has_expired()):
            self._close_later(connection)
            connection = None
        if connection is None:
            connection = httpcore.AsyncHTTPConnection(
                origin, keepalive_expiry=KEEPALIVE_SECONDS, network_backend=self.backend)
        kept[key] = connection
        while len(kept) > MAX_ORIGINS_PER_SLOT:
            _, evicted = kept.popitem(last=False)
            self._close_later(evicted)
        return connection

    async def post(self, url: str, headers: list[tuple[bytes, bytes]], body: bytes,
                   slot: int = 0) -> Answer:
        started = time.perf_counter()
        status: int | None = None
        try:
            request_url = httpcore.URL(url)
            origin = request_url.origin
            all_headers = [*headers, (b"host", _host_header(request_url)),
                           (b"user-agent", USER_AGENT),
                           (b"content-length", str(len(body)).encode())]
            async with asyncio.timeout(self.timeout):
                for fresh in (False, True):
                    connection = self._connection(slot, origin, fresh)
                    try:
                        async with connection.stream(
                            "POST", request_url, headers=all_headers, content=body,
                            extensions={"timeout": self._timeouts},
                        ) as response:
                            status = response.status
                            received = bytearray()
                            async for chunk in response.aiter_stream():
                                received += chunk
                                if len(received) >= MAX_RESPONSE_BYTES:
                                    break
                        break
                    except httpcore.ConnectionNotAvailable:
                        if fresh:
                            raise
                    except httpcore.RemoteProtocolError:
                        # A kept-alive connection the receiver closed meanwhile: once
                        # more on a new one, as a pool would.
                        if fresh or status is not None:
                            raise
            if status is None:  # unreachable: the loop answers or raises
                raise httpcore.ConnectionNotAvailable()
            text = bytes(received[:MAX_RESPONSE_BYTES]).decode("utf-8", "replace")
            error = None if 200 <= status < 300 else f"HTTP {status}"
            return Answer(status, _ms(started), error, text or None)
        except TimeoutError:
            return Answer(status, _ms(started), f"timed out after {self.timeout:g} s", None)
        except TargetRefused as exc:
            return Answer(None, _ms(started), f"refused: {exc}", None)
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
                httpcore.UnsupportedProtocol, httpcore.ConnectionNotAvailable,
                OSError, ValueError) as exc:
            return Answer(status, _ms(started), _describe(exc), None)

    async def close(self) -> None:
        for kept in self._connections.values():
            for connection in kept.values():
                await connection.aclose()
        self._connections.clear()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


def _host_header(url: httpcore.URL) -> bytes:
    default = {b"http": 80, b"https": 443}.get(url.scheme)
    return url.host if url.port in (None, default) else url.host + b":" + str(url.port).encode()


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _describe(exc: Exception) -> str:
    kind = type(exc).__name__
    detail = str(exc)[:200]
    return f"{kind}: {detail}" if detail else kind
