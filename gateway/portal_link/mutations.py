from __future__ import annotations

import strawberry

from gateway.graphql.context import Info
from gateway.graphql.scalars import text_id
from gateway.kit.time import from_unix
from gateway.portal_link.types import PortalLink, PortalLinkRevocation
from gateway.portal_link.usecases import issue_portal_link, portal_link_service


@strawberry.type
class PortalLinkMutation:
    @strawberry.mutation(
        description="Sign a customer portal link, valid 24 hours. API key, or a dashboard "
        "session with settings.manage on companyId."
    )
    async def create_portal_link(
        self, info: Info, customer_id: strawberry.ID, company_id: strawberry.ID | None = None
    ) -> PortalLink:
        ctx = info.context
        principal = await ctx.link_issuer(company_id)
        issued, decision = await issue_portal_link(ctx.state, principal, customer_id)
        if decision is not None:
            ctx.response_headers.update(decision.headers())
        return PortalLink.from_issued(issued)

    @strawberry.mutation(
        description="Stop every portal link issued for this customer up to now, on every "
        "gateway process. API key, or a dashboard session with settings.manage."
    )
    async def revoke_portal_links(
        self, info: Info, customer_id: strawberry.ID, company_id: strawberry.ID | None = None
    ) -> PortalLinkRevocation:
        ctx = info.context
        principal = await ctx.link_principal(company_id)
        service = portal_link_service(ctx.state, ctx.get_session)
        customer, cutoff = await service.revoke(principal.company_id, customer_id,
                                                principal.source)
        return PortalLinkRevocation(customer_id=text_id(customer.id),
                                    revoked_before=from_unix(cutoff))
