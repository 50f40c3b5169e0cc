"""Sending one webhook: a POST with strict limits, to a checked address.

aiohttp is the client: its C parser, and a request that goes out in one write
(head and body together), cost a quarter of the CPU that httpcore, h11 and anyio
did per delivery. On top of it:
- no redirects followed (a 3xx is simply not a 2xx), no proxy from the
  environment, no cookies, no decompression;
- one deadline for the whole attempt (connect, TLS, send, answer), so a receiver
  that dribbles bytes (slowloris) or never finishes its TLS handshake holds a
  worker slot for at most the timeout;
- at most 4 KB of the answer read, the rest never downloaded (a connection with
  unread answer left is closed, not kept);
- the SSRF guard below, at connect time."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
import time
from collections import OrderedDict
from dataclasses import dataclass

import aiohttp
import certifi
from aiohttp.abc import ResolveResult
from yarl import URL

MAX_RESPONSE_BYTES = 4096
KEEPALIVE_SECONDS = 30.0
MAX_ORIGINS_PER_SLOT = 8
USER_AGENT = "MakePay-Webhooks/1"
# aiohttp's own timers stay off: the attempt's one deadline (asyncio.timeout) covers all.
_NO_TIMEOUTS = aiohttp.ClientTimeout(total=None, connect=None, sock_read=None,
                                     sock_connect=None)


class TargetRefused(OSError):
    """The name resolved to an address deliveries may not reach."""


def refused_address(address: str) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified, shared (CGNAT)
    or documentation addresses: anything that is not a public unicast address.
    IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class GuardedResolver(aiohttp.ThreadedResolver):
    """Resolves like aiohttp's threaded resolver, then keeps only the addresses
    deliveries may reach, so a name that resolves only to private addresses is
    refused with a clear error before any connection is tried."""

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await super().resolve(host, port, family)
        allowed = [result for result in found if not refused_address(result["host"])]
        if not allowed:
            raise TargetRefused(f"{host} resolves to a private or reserved address")
        return allowed


def guarded_socket(addr_info: aiohttp.AddrInfoType) -> socket.socket:
    """aiohttp's socket factory: every connection is made by a socket created here
    for the address it then connects to, so the address checked is the address used.
    A name that resolves to a public address when the endpoint is saved and to
    127.0.0.1 at delivery (DNS rebinding) is still refused, and so is an address
    written in the URL (which aiohttp does not pass through the resolver)."""
    family, kind, proto, _, address = addr_info
    if refused_address(str(address[0])):
        raise TargetRefused(f"{address[0]} is a private or reserved address")
    return socket.socket(family=family, type=kind, proto=proto)


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


@functools.lru_cache(maxsize=1024)
def _target(url: str) -> tuple[URL, tuple[str, str, int]]:
    """The parsed URL and its origin (scheme, host, port). Bounded: endpoints are few
    next to deliveries, and a URL is at most 2,000 characters."""
    parsed = URL(url)
    return parsed, (parsed.scheme, parsed.host or "", parsed.port or 0)


class Sender:
    """Each worker slot keeps its own keep-alive connection to each of its last
    `MAX_ORIGINS_PER_SLOT` origins (a client session of one connection each), so the
    connections held stay within slots x origins however many endpoints there are; a
    shared pool would keep every origin's idle connections until they expire."""

    def __init__(self, *, timeout: float, allow_private: bool) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        # As httpcore did: the system's trusted roots, and certifi's bundle beside them.
        self.ssl_context = ssl.create_default_context()
        self.ssl_context.load_verify_locations(certifi.where())
        self._sessions: dict[int, OrderedDict[tuple[str, str, int], aiohttp.ClientSession]] = {}
        self._closing: set[asyncio.Future[None]] = set()  # closes in flight, kept referenced

    def _close_later(self, session: aiohttp.ClientSession) -> None:
        closing = asyncio.ensure_future(session.close())
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    def _session(self, slot: int, origin: tuple[str, str, int]) -> aiohttp.ClientSession:
        kept = self._sessions.setdefault(slot, OrderedDict())
        session = kept.pop(origin, None)
        if session is None or session.closed:
            session = self._new_session()
        kept[origin] = session
        while len(kept) > MAX_ORIGINS_PER_SLOT:
            _, evicted = kept.popitem(last=False)
            self._close_later(evicted)
        return session

    def _new_session(self) -> aiohttp.ClientSession:
        guarded = not self.allow_private
        connector = aiohttp.TCPConnector(
            limit=1, keepalive_timeout=KEEPALIVE_SECONDS, ssl=self.ssl_context,
            use_dns_cache=False,  # resolved (and checked) for each new connection
            resolver=GuardedResolver() if guarded else None,
            socket_factory=guarded_socket if guarded else None)
        return aiohttp.ClientSession(
            connector=connector, timeout=_NO_TIMEOUTS, cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False, trust_env=False,
            skip_auto_headers=("Accept", "Accept-Encoding"),
            headers={"User-Agent": USER_AGENT})

    async def post(self, url: str, headers: dict[str, str], body: bytes,
                   slot: int = 0) -> Answer:
        started = time.perf_counter()
        status: int | None = None
        received = b""
        try:
            target, origin = _target(url)
            session = self._session(slot, origin)
            async with asyncio.timeout(self.timeout):
                for retry in (False, True):
                    try:
                        async with session.post(target, data=body, headers=headers,
                                                allow_redirects=False) as response:
                            status = response.status
                            while len(received) < MAX_RESPONSE_BYTES:
                                chunk = await response.content.read(
                                    MAX_RESPONSE_BYTES - len(received))
                                if not chunk:
                                    break
                                received += chunk
                        break
                    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                        # A kept-alive connection the receiver closed meanwhile: once
                        # more on a new one, as a pool would.
                        if (retry or status is not None
                                or isinstance(exc, aiohttp.ClientConnectorError)):
                            raise
            error = None if status is not None and 200 <= status < 300 else f"HTTP {status}"
            return Answer(status, _ms(started), error,
                          received.decode("utf-8", "replace") or None)
        except TimeoutError:
            return Answer(status, _ms(started), f"timed out after {self.timeout:g} s", None)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, TargetRefused):
                return Answer(None, _ms(started), f"refused: {exc.os_error}", None)
            return Answer(status, _ms(started), _describe(exc), None)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return Answer(status, _ms(started), _describe(exc), None)

    async def close(self) -> None:
        for kept in self._sessions.values():
            for session in kept.values():
                await session.close()
        self._sessions.clear()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _describe(exc: Exception) -> str:
    kind = type(exc).__name__
    detail = str(exc)[:200]
    return f"{kind}: {detail}" if detail else kind
