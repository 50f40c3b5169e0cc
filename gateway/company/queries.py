from __future__ import annotations

import strawberry

from gateway.company.service import CompanyService
from gateway.company.types import PortalBranding, PortalSettingsType
from gateway.graphql.context import Info

CompanyArg = strawberry.ID | None


@strawberry.type
class CompanyQuery:
    @strawberry.field(description="Your billing portal's branding (every field null when "
                      "none is set). API key.")
    async def portal_branding(self, info: Info) -> PortalBranding:
        principal = await info.context.merchant()
        service = CompanyService(info.context.session, info.context.state.clock)
        return PortalBranding.from_branding(await service.branding(principal.company_id))

    @strawberry.field(description="What your billing portal offers customers. API key, or a "
                      "dashboard session with settings.manage on companyId.")
    async def portal_settings(self, info: Info, company_id: CompanyArg = None
                              ) -> PortalSettingsType:
        principal = await info.context.link_principal(company_id)
        service = CompanyService(info.context.session, info.context.state.clock)
        return PortalSettingsType.from_settings(
            await service.portal_settings(principal.company_id))
