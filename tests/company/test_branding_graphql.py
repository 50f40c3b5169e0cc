"""Portal branding over GraphQL: the merchant's API-key operations, as a merchant
backend sends them, and the portal's `company.branding`, as the portal page reads it."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.models import Company
from tests.factories import create_api_key, create_company
from tests.portal.conftest import PORTAL_QUERY, Tenant, make_tenant
from tests.portal.test_cost import PORTAL_STATEMENTS
from tests.support import Gateway, error_codes, sql_statements

FIELDS = "accentColor supportEmail supportUrl displayName"
UPDATE = f"""
mutation($input: PortalBrandingInput!) {{ updatePortalBranding(input: $input) {{ {FIELDS} }} }}"""
READ = f"{{ portalBranding {{ {FIELDS} }} }}"
PORTAL_COMPANY = f"{{ portal {{ company {{ id name branding {{ {FIELDS} }} }} }} }}"
PORTAL_COMPANY_PLAIN = "{ portal { company { id name } } }"
BRANDED_PORTAL_QUERY = PORTAL_QUERY.replace("company { id name }",
                                            f"company {{ id name branding {{ {FIELDS} }} }}")
EMPTY = {"accentColor": None, "supportEmail": None, "supportUrl": None, "displayName": None}
FULL = {"accentColor": "#0f766e", "supportEmail": "help@acme.example",
        "supportUrl": "https://help.acme.example/billing", "displayName": "Acme Cloud"}


async def stored(gw: Gateway, company_id: str) -> Any:
    async with gw.state.session_factory() as session:
        company = await session.get(Company, company_id)
        assert company is not None
        return company.branding


@pytest.fixture
async def tenant(gw: Gateway) -> Tenant:
    return await make_tenant(gw)


@pytest.fixture
async def merchant(gw: Gateway) -> tuple[Gateway, dict[str, str], str]:
    company = await create_company(gw, "Acme")
    return gw, await create_api_key(gw, company), company.id


class TestMerchant:
    async def test_nothing_set_reads_as_nulls(self, merchant: tuple[Gateway, dict[str, str], str]) -> None:
        gw, key, _ = merchant
        assert (await gw.gql_data(READ, headers=key))["portalBranding"] == EMPTY

    async def test_update_then_read(self, merchant: tuple[Gateway, dict[str, str], str]) -> None:
        gw, key, company_id = merchant
        updated = await gw.gql_data(UPDATE, {"input": FULL}, headers=key)
        assert updated["updatePortalBranding"] == FULL
        assert (await gw.gql_data(READ, headers=key))["portalBranding"] == FULL
        assert await stored(gw, company_id) == FULL

    async def test_omitted_fields_stay_and_null_clears(
        self, merchant: tuple[Gateway, dict[str, str], str]
    ) -> None:
        gw, key, _ = merchant
        await gw.gql_data(UPDATE, {"input": FULL}, headers=key)
        data = await gw.gql_data(UPDATE, {"input": {"supportUrl": None, "accentColor": "#1d4ed8"}},
                                 headers=key)
        assert data["updatePortalBranding"] == {**FULL, "supportUrl": None, "accentColor": "#1d4ed8"}

    @pytest.mark.parametrize(("change", "field"), [
        ({"accentColor": "#7dd3fc"}, "accentColor"),  # light blue: white text on it is unreadable
        ({"accentColor": "blue"}, "accentColor"),
        ({"supportEmail": "not-an-email"}, "supportEmail"),
        ({"supportUrl": "http://help.acme.example"}, "supportUrl"),
        ({"supportUrl": "javascript:alert(document.domain)"}, "supportUrl"),
        ({"displayName": "x" * 101}, "displayName"),
    ])
    async def test_invalid_input_is_bad_request_and_changes_nothing(
        self, merchant: tuple[Gateway, dict[str, str], str], change: dict[str, str], field: str
    ) -> None:
        gw, key, company_id = merchant
        await gw.gql_data(UPDATE, {"input": FULL}, headers=key)
        response = await gw.gql(UPDATE, {"input": {**FULL, "displayName": "Changed", **change}},
                                headers=key)
        body = response.json()
        assert error_codes(body) == ["BAD_REQUEST"]
        assert body["errors"][0]["extensions"]["field"] == field
        assert field in body["errors"][0]["message"]
        assert await stored(gw, company_id) == FULL

    async def test_without_an_api_key_is_unauthenticated(self, gw: Gateway) -> None:
        for document, variables in ((READ, {}), (UPDATE, {"input": FULL})):
            response = await gw.gql(document, variables)
            assert error_codes(response.json()) == ["UNAUTHENTICATED"]


class TestIsolation:
    """From the attacker's side: a merchant with a key of their own tries to read or
    change another merchant's branding."""

    async def test_another_companys_key_sees_and_changes_only_its_own(self, gw: Gateway) -> None:
        victim = await create_company(gw, "Victim")
        victim_key = await create_api_key(gw, victim)
        await gw.gql_data(UPDATE, {"input": FULL}, headers=victim_key)
        attacker_key = await create_api_key(gw, await create_company(gw, "Attacker"))

        seen = await gw.gql_data(READ, headers=attacker_key)
        changed = await gw.gql_data(UPDATE, {"input": {"displayName": "Victim support",
                                                       "supportEmail": "phish@evil.example"}},
                                    headers=attacker_key)

        assert seen["portalBranding"] == EMPTY
        assert changed["updatePortalBranding"]["supportEmail"] == "phish@evil.example"
        assert await stored(gw, victim.id) == FULL
        assert (await gw.gql_data(READ, headers=victim_key))["portalBranding"] == FULL

    @pytest.mark.parametrize("document", [
        '{ portalBranding(companyId: "%s") { displayName } }',
        'mutation { updatePortalBranding(companyId: "%s", input: {displayName: "x"}) { displayName } }',
    ])
    async def test_no_operation_takes_a_company(self, gw: Gateway, document: str) -> None:
        victim = await create_company(gw, "Victim")
        attacker_key = await create_api_key(gw, await create_company(gw, "Attacker"))
        response = await gw.gql(document % victim.id, headers=attacker_key)
        assert error_codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]
        assert await stored(gw, victim.id) is None

    async def test_a_portal_link_shows_its_own_companys_branding(self, gw: Gateway) -> None:
        victim = await make_tenant(gw, "Victim")
        attacker = await make_tenant(gw, "Attacker")
        await gw.gql_data(UPDATE, {"input": FULL}, headers=victim.api_key)
        await gw.gql_data(UPDATE, {"input": {"displayName": "Evil"}}, headers=attacker.api_key)

        victim_view = (await victim.portal(PORTAL_COMPANY))["data"]["portal"]["company"]
        attacker_view = (await attacker.portal(PORTAL_COMPANY))["data"]["portal"]["company"]

        assert victim_view["branding"] == FULL
        assert attacker_view["branding"] == {**EMPTY, "displayName": "Evil"}


class TestPortal:
    async def test_branding_is_null_when_none_is_set(self, tenant: Tenant) -> None:
        company = (await tenant.portal(PORTAL_COMPANY))["data"]["portal"]["company"]
        assert company == {"id": tenant.company.id, "name": "Acme", "branding": None}

    async def test_the_portal_shows_what_the_merchant_set(self, tenant: Tenant) -> None:
        await tenant.gw.gql_data(UPDATE, {"input": FULL}, headers=tenant.api_key)
        first = (await tenant.portal(PORTAL_COMPANY))["data"]["portal"]["company"]
        await tenant.gw.gql_data(UPDATE, {"input": {"accentColor": None}}, headers=tenant.api_key)
        second = (await tenant.portal(PORTAL_COMPANY))["data"]["portal"]["company"]

        assert first == {"id": tenant.company.id, "name": "Acme", "branding": FULL}
        assert second["branding"] == {**FULL, "accentColor": None}

    async def test_branding_costs_no_sql_statement(self, tenant: Tenant) -> None:
        await tenant.gw.gql_data(UPDATE, {"input": FULL}, headers=tenant.api_key)
        await tenant.portal(PORTAL_COMPANY_PLAIN)  # caches the link's verification
        # The API key's last use is written after the response: let it land before counting.
        await tenant.gw.state.api_keys.drain()
        engine = tenant.gw.state.engine

        with sql_statements(engine) as plain:
            assert "errors" not in await tenant.portal(PORTAL_COMPANY_PLAIN)
        with sql_statements(engine) as branded:
            body = await tenant.portal(PORTAL_COMPANY)
        with sql_statements(engine) as whole:
            whole_body = await tenant.portal(BRANDED_PORTAL_QUERY, {"first": 100})

        assert body["data"]["portal"]["company"]["branding"] == FULL
        assert whole_body["data"]["portal"]["company"]["branding"] == FULL
        assert len(branded) == len(plain)
        assert len(whole) == PORTAL_STATEMENTS, whole
