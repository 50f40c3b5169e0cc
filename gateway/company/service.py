from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gateway.audit.service import SettingsActor, SettingsChangeService
from gateway.company import portal_settings
from gateway.company.branding import Branding, clean_changes
from gateway.company.portal_settings import PortalSettings
from gateway.company.repository import CompanyRepository
from gateway.errors import BadRequest, Conflict, NotFound
from gateway.kit.ids import is_company_id, new_company_id
from gateway.kit.service import Service
from gateway.models import Company

_DOMAIN_RE = re.compile(r"(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class CompanyService(Service[CompanyRepository]):
    repository = CompanyRepository

    async def create(
        self, name: str, company_id: str | None = None, portal_domain: str | None = None
    ) -> Company:
        name = name.strip()
        if not 1 <= len(name) <= 200:
            raise BadRequest("Company name must be 1-200 characters.")
        company_id = company_id or new_company_id()
        if not is_company_id(company_id):
            raise BadRequest("Company id must be acct_ followed by 1-64 of A-Z, a-z, 0-9, _.")
        if await self.repo.get(company_id) is not None:
            raise Conflict(f"Company {company_id} already exists.")
        domain = None
        if portal_domain:
            domain = portal_domain.strip().lower()
            if _DOMAIN_RE.fullmatch(domain) is None:
                raise BadRequest("Portal domain must be a host name such as billing.example.com.")
        return await self.repo.add(
            Company(id=company_id, name=name, portal_domain=domain,
                    portal_domain_verified=False, created_at=self.clock.now())
        )

    async def get(self, company_id: str) -> Company:
        company = await self.repo.get(company_id)
        if company is None:
            raise NotFound("No such company.")
        return company

    async def set_portal_domain(self, company_id: str, domain: str | None, verified: bool) -> Company:
        company = await self.get(company_id)
        if domain is not None:
            domain = domain.strip().lower()
            if _DOMAIN_RE.fullmatch(domain) is None:
                raise BadRequest("Portal domain must be a host name such as billing.example.com.")
        company.portal_domain = domain
        company.portal_domain_verified = bool(domain) and verified
        await self.session.flush()
        return company

    async def branding(self, company_id: str) -> Branding:
        return Branding.from_json((await self.get(company_id)).branding)

    async def update_branding(
        self, company_id: str, changes: Mapping[str, str | None], actor: SettingsActor
    ) -> Branding:
        """Applies `changes` (field name to value; None clears, absent stays). Every value
        is validated before the row is read, so invalid input changes nothing. What
        changed is recorded for the merchant's audit trail, in the same transaction."""
        cleaned = clean_changes(changes)
        company = await self._locked(company_id)
        before = Branding.from_json(company.branding)
        updated = before.updated(cleaned)
        company.branding = updated.to_json()
        await self.session.flush()
        await self._audit(company_id, actor, "branding.update", before.public(), updated.public())
        return updated

    async def portal_settings(self, company_id: str) -> PortalSettings:
        return PortalSettings.from_json((await self.get(company_id)).portal_settings)

    async def update_portal_settings(
        self, company_id: str, changes: Mapping[str, Any], actor: SettingsActor
    ) -> PortalSettings:
        """As update_branding: every value validated before the row is read; None
        restores a field's default, absent stays; recorded for the audit trail."""
        cleaned = portal_settings.clean_changes(changes)
        company = await self._locked(company_id)
        before = PortalSettings.from_json(company.portal_settings)
        updated = before.updated(cleaned)
        company.portal_settings = updated.to_json()
        await self.session.flush()
        await self._audit(company_id, actor, "portal_settings.update", before.public(),
                          updated.public())
        return updated

    async def _audit(self, company_id: str, actor: SettingsActor, action: str,
                     before: dict[str, Any], after: dict[str, Any]) -> None:
        await SettingsChangeService(self.session, self.clock).record(
            company_id, actor, action, before, after)

    async def _locked(self, company_id: str) -> Company:
        company = await self.repo.get_for_update(company_id)
        if company is None:
            raise NotFound("No such company.")
        return company
