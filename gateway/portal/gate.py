"""The portal's store checks for one request, as one store call (store.Gate, run by
gateway/store/lua/gate.lua on Redis), in the order their answers take precedence:
the client IP's failure budget (a peek: an IP past it learns nothing more), the
customer's revocation and the link's cached verification, then one request from
the link's budget, not spent on a revoked link."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.rate_limit.limiter import PortalBudget, RateLimiter
from gateway.signing.link import SignedLink
from gateway.store import Gate, RateDecision, Store


@dataclass(frozen=True, slots=True)
class PortalGateResult:
    ip: RateDecision  # refused: the IP is past its failure budget and nothing else was read
    revoked: int | None  # the customer's revocation cutoff, if the store holds one
    verified: int | None  # when the link's verification was cached, if it was
    rate: RateDecision | None  # the link's budget; None when not spent (IP refused, link revoked)


def portal_gate(limiter: RateLimiter, client_ip: str, budget: PortalBudget,
                link: SignedLink) -> Gate:
    company, customer = link.company_id, link.customer_uid
    return Gate(
        guard=limiter.auth_failure_budget(client_ip),
        reads=(limiter.keys.revocation(company, customer),
               limiter.keys.verified_link(company, customer, link.signature)),
        stop_at=link.issued_at,  # a revocation at or after the link's issue time covers it
        spend=limiter.portal_budget(budget, company, customer, link.signature),
    )


async def check_portal_gate(store: Store, gate: Gate) -> PortalGateResult:
    result = await store.gate(gate)
    revoked, verified = result.values or (None, None)
    return PortalGateResult(result.guard, revoked, verified, result.spent)
