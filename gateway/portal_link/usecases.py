"""createPortalLink as GraphQL and both REST routes run it: rate limit, then sign."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.event.payloads import portal_link_object
from gateway.event.service import Source, emit_alone
from gateway.portal_link.service import IssuedPortalLink, PortalLinkService
from gateway.state import State
from gateway.store import RateDecision


@dataclass(frozen=True, slots=True)
class LinkPrincipal:
    """Who asks for a link: an API key, or a dashboard user acting for a company."""

    company_id: str
    rate_key: str
    # Set when authentication already spent the link budget (auth.authenticate_link_issuer).
    rate_checked: bool = False
    decision: RateDecision | None = None
    source: Source = Source.merchant_api


def portal_link_service(state: State, session: AsyncSession | None) -> PortalLinkService:
    settings = state.settings
    return PortalLinkService(
        session, state.clock, state.signer, state.store, state.keys,
        settings.portal_base_url, settings.clock_skew_seconds, engine=state.engine,
    )


async def issue_portal_link(
    state: State, principal: LinkPrincipal, customer_ref: str
) -> tuple[IssuedPortalLink, RateDecision | None]:
    """The customer lookup runs on the engine, outside any session (customer/repository.py)."""
    if principal.rate_checked:
        decision = principal.decision
    else:
        decision = await state.limiter.link_creation(principal.company_id, principal.rate_key)
    issued = await portal_link_service(state, None).issue(principal.company_id, customer_ref)
    await emit_alone(state.engine, state.clock, issued.company_id, "portal_link.created",
                     principal.source, portal_link_object(issued.customer, issued.expires_at))
    return issued, decision
