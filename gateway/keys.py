"""Every Redis key the gateway writes is built here.

A company's keys are `{prefix}:{{company}}:...`: the company in braces is a Redis
Cluster hash tag, so all of one company's keys hash to one slot. Keys that belong to
no company (an IP's failure budget, a session, a sign-in budget, an API key's
revocation mark) carry no tag. The store's gate script (gateway/store/lua/gate.lua)
reads an IP's key together with a company's, so it touches two slots: it needs a
single Redis, which is what the gateway's client is. Secrets and signatures never
appear in a key; they are hashed first."""

from __future__ import annotations

import hashlib
import ipaddress


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def link_rate(self, company_id: str, principal: str) -> str:
        return f"{self.prefix}:{{{company_id}}}:rl:links:{principal}"

    def auth_failures(self, client_ip: str) -> str:
        return f"{self.prefix}:ip:{client_ip}:rl:authfail"

    def portal_rate(self, company_id: str, customer_uid: str, signature: str, kind: str) -> str:
        return f"{self.prefix}:{{{company_id}}}:rl:portal:{kind}:{customer_uid}:{_digest(signature)}"

    def verified_link(self, company_id: str, customer_uid: str, signature: str) -> str:
        return f"{self.prefix}:{{{company_id}}}:link:{customer_uid}:{_digest(signature)}"

    def revocation(self, company_id: str, customer_uid: str) -> str:
        return f"{self.prefix}:{{{company_id}}}:revoked:{customer_uid}"

    def idempotency(self, company_id: str, customer_uid: str, key: str) -> str:
        return f"{self.prefix}:{{{company_id}}}:idem:{customer_uid}:{_digest(key)}"

    def revoked_api_key(self, key_id: str) -> str:
        """Set when a key is revoked, so every process refuses it within a second,
        ahead of its key cache (contract section 12). Key ids are not secret, but a
        presented one is not yet checked against the database: digested, as any
        client-chosen text in a key."""
        return f"{self.prefix}:apikey:revoked:{_digest(key_id)}"

    def session(self, session_id: str) -> str:
        return f"{self.prefix}:session:{_digest(session_id)}"

    def login_failures(self, email: str) -> str:
        return f"{self.prefix}:rl:loginfail:{_digest(email.lower())}"

    def login_failures_from(self, email: str, client_ip: str) -> str:
        return f"{self.prefix}:rl:loginfail:{_digest(email.lower())}:ip:{_network(client_ip)}"


def _network(client_ip: str) -> str:
    """An IPv6 client's /64, the block one subscriber or one cloud instance is given:
    per address, its 2^64 addresses would be 2^64 budgets. IPv4 as it is."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return client_ip
