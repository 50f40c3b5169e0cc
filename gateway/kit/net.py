from __future__ import annotations

import ipaddress

from starlette.requests import HTTPConnection


def client_ip(conn: HTTPConnection, trusted_proxies: list[str]) -> str:
    """The peer address, or the last untrusted hop of X-Forwarded-For when the peer
    is a configured proxy. Anything else would let a client pick its own rate-limit key."""
    peer = conn.client.host if conn.client else "unknown"
    if not trusted_proxies or not _trusted(peer, trusted_proxies):
        return peer
    forwarded = conn.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted_proxies):
            return hop
    return peer


def _trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)
