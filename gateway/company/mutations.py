from __future__ import annotations

import logging

import strawberry

from gateway.company import portal_settings
from gateway.company.branding import JSON_KEYS
from gateway.company.queries import CompanyArg
from gateway.company.service import CompanyService
from gateway.company.types import (
    PortalBranding,
    PortalBrandingInput,
    PortalSettingsInput,
    PortalSettingsType,
)
from gateway.graphql.context import Info
from gateway.principal import LinkPrincipal

log = logging.getLogger("gateway.company")


@strawberry.type
class CompanyMutation:
    @strawberry.mutation(description="Change your billing portal's branding: omitted fields "
                         "stay, null clears. Invalid input is BAD_REQUEST and changes nothing. "
                         "What changed is recorded in settingsChanges. API key.")
    async def update_portal_branding(self, info: Info, input: PortalBrandingInput) -> PortalBranding:
        principal = LinkPrincipal.of_key(await info.context.merchant())
        actor = await info.context.settings_actor(principal)
        session = info.context.session
        changes = input.changes()
        branding = await CompanyService(session, info.context.state.clock).update_branding(
            principal.company_id, changes, actor)
        await session.commit()
        log.info("portal branding changed for %s: %s", principal.company_id,
                 ", ".join(sorted(JSON_KEYS[name] for name in changes)))
        return PortalBranding.from_branding(branding)

    @strawberry.mutation(description="Change what your billing portal offers: omitted fields "
                         "stay, null restores the default. Invalid input is BAD_REQUEST (with "
                         "extensions.field) and changes nothing; what changed is recorded in "
                         "settingsChanges. API key, or a dashboard session with "
                         "settings.manage on companyId.")
    async def update_portal_settings(self, info: Info, input: PortalSettingsInput,
                                     company_id: CompanyArg = None) -> PortalSettingsType:
        principal = await info.context.link_principal(company_id)
        actor = await info.context.settings_actor(principal)
        session = info.context.session
        changes = input.changes()
        settings = await CompanyService(session, info.context.state.clock).update_portal_settings(
            principal.company_id, changes, actor)
        await session.commit()
        log.info("portal settings changed for %s: %s", principal.company_id,
                 ", ".join(sorted(portal_settings.JSON_KEYS[name] for name in changes)))
        return PortalSettingsType.from_settings(settings)
