from __future__ import annotations

import logging

import strawberry

from gateway.company.branding import JSON_KEYS
from gateway.company.service import CompanyService
from gateway.company.types import PortalBranding, PortalBrandingInput
from gateway.graphql.context import Info

log = logging.getLogger("gateway.company")


@strawberry.type
class CompanyMutation:
    @strawberry.mutation(description="Change your billing portal's branding: omitted fields "
                         "stay, null clears. Invalid input is BAD_REQUEST and changes nothing. "
                         "API key.")
    async def update_portal_branding(self, info: Info, input: PortalBrandingInput) -> PortalBranding:
        principal = await info.context.merchant()
        session = info.context.session
        changes = input.changes()
        branding = await CompanyService(session, info.context.state.clock).update_branding(
            principal.company_id, changes)
        await session.commit()
        log.info("portal branding changed for %s: %s", principal.company_id,
                 ", ".join(sorted(JSON_KEYS[name] for name in changes)))
        return PortalBranding.from_branding(branding)
