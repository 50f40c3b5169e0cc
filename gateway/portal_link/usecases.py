"""createPortalLink as GraphQL and both REST routes run it: rate limit, then sign."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.event.payloads import portal_link_object
from gateway.event.service import emit_alone
from gateway.portal_link.service import IssuedPortalLink, PortalLinkService
from gateway.principal import LinkPrincipal
from gateway.state import State
from gateway.store import RateDecision


def portal_link_service(state: State, sessions: Callable[[], AsyncSession]) -> PortalLinkService:
    settings = state.settings
    return PortalLinkService(
        sessions, state.clock, state.signer, state.store, state.keys,
        settings.portal_base_url, settings.clock_skew_seconds, state.engine,
    )


async def issue_portal_link(
    state: State, principal: LinkPrincipal, customer_ref: str
) -> tuple[IssuedPortalLink, RateDecision | None]:
    """The customer lookup runs on the engine, outside any session (customer/repository.py)."""
    if principal.rate_checked:
        decision = principal.decision
    else:
        decision = await state.limiter.link_creation(principal.company_id, principal.rate_key)
    # Issuing makes no session: the factory is there for the service's writes.
    issued = await portal_link_service(state, state.session_factory).issue(principal.company_id, customer_ref)
    await emit_alone(state.engine, state.clock, issued.company_id, "portal_link.created",
                     principal.source, portal_link_object(issued.customer, issued.expires_at))
    return issued, decision
