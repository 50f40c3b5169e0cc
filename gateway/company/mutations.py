from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import strawberry

from gateway.audit.service import SettingsActor
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
T = TypeVar("T")
ChangesT = TypeVar("ChangesT", bound=Mapping[str, object])


@strawberry.type
class CompanyMutation:
    @strawberry.mutation(description="Change your billing portal's branding: omitted fields "
                         "stay, null clears. Invalid input is BAD_REQUEST and changes nothing. "
                         "What changed is recorded in settingsChanges. API key.")
    async def update_portal_branding(self, info: Info, input: PortalBrandingInput) -> PortalBranding:
        principal = LinkPrincipal.of_key(await info.context.merchant())
        branding = await _update(info, principal, input.changes, CompanyService.update_branding,
                                 "portal branding", JSON_KEYS)
        return PortalBranding.from_branding(branding)

    @strawberry.mutation(description="Change what your billing portal offers: omitted fields "
                         "stay, null restores the default. Invalid input is BAD_REQUEST (with "
                         "extensions.field) and changes nothing; what changed is recorded in "
                         "settingsChanges. API key, or a dashboard session with "
                         "settings.manage on companyId.")
    async def update_portal_settings(self, info: Info, input: PortalSettingsInput,
                                     company_id: CompanyArg = None) -> PortalSettingsType:
        principal = await info.context.link_principal(company_id)
        settings = await _update(info, principal, input.changes,
                                 CompanyService.update_portal_settings, "portal settings",
                                 portal_settings.JSON_KEYS)
        return PortalSettingsType.from_settings(settings)


async def _update(
    info: Info, principal: LinkPrincipal, changes: Callable[[], ChangesT],
    update: Callable[[CompanyService, str, ChangesT, SettingsActor], Awaitable[T]],
    what: str, json_keys: Mapping[str, str],
) -> T:
    """Applies the input's `changes()` through the company service's `update` as the
    principal's change (recorded in settingsChanges), commits, and logs the fields given
    by their API names."""
    actor = await info.context.settings_actor(principal)
    session = info.context.session
    given = changes()
    updated = await update(CompanyService(session, info.context.state.clock),
                           principal.company_id, given, actor)
    await session.commit()
    log.info("%s changed for %s: %s", what, principal.company_id,
             ", ".join(sorted(json_keys[name] for name in given)))
    return updated
