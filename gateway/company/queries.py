from __future__ import annotations

import strawberry

from gateway.company.service import CompanyService
from gateway.company.types import PortalBranding
from gateway.graphql.context import Info


@strawberry.type
class CompanyQuery:
    @strawberry.field(description="Your billing portal's branding (every field null when "
                      "none is set). API key.")
    async def portal_branding(self, info: Info) -> PortalBranding:
        principal = await info.context.merchant()
        service = CompanyService(info.context.session, info.context.state.clock)
        return PortalBranding.from_branding(await service.branding(principal.company_id))
