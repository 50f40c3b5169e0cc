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
from dataclasses import dataclass
from typing import Any

import httpcore

MAX_RESPONSE_BYTES = 4096
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
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    def __init__(self, *, timeout: float, allow_private: bool, max_connections: int) -> None:
        self.timeout = timeout
        self.pool = httpcore.AsyncConnectionPool(
            max_connections=max_connections, keepalive_expiry=30.0, retries=0,
            network_backend=GuardedBackend(allow_private=allow_private))
        self._timeouts = {"connect": timeout, "read": timeout, "write": timeout,
                          "pool": timeout}

    async def post(self, url: str, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        started = time.perf_counter()
        status: int | None = None
        try:
            async with asyncio.timeout(self.timeout):
                async with self.pool.stream(
                    "POST", url, content=body, extensions={"timeout": self._timeouts},
                    headers=[*headers, (b"user-agent", USER_AGENT),
                             (b"content-length", str(len(body)).encode())],
                ) as response:
                    status = response.status
                    received = bytearray()
                    async for chunk in response.aiter_stream():
                        received += chunk
                        if len(received) >= MAX_RESPONSE_BYTES:
                            break
            text = bytes(received[:MAX_RESPONSE_BYTES]).decode("utf-8", "replace")
            error = None if 200 <= status < 300 else f"HTTP {status}"
            return Answer(status, _ms(started), error, text or None)
        except TimeoutError:
            return Answer(status, _ms(started), f"timed out after {self.timeout:g} s", None)
        except TargetRefused as exc:
            return Answer(None, _ms(started), f"refused: {exc}", None)
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
                httpcore.UnsupportedProtocol, OSError) as exc:
            return Answer(status, _ms(started), _describe(exc), None)

    async def close(self) -> None:
        await self.pool.aclose()


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _describe(exc: Exception) -> str:
    kind = type(exc).__name__
    detail = str(exc)[:200]
    return f"{kind}: {detail}" if detail else kind
