"""What the portal page learns of the merchant's settings (contract section 11):
`portal { settings }`, and the ways on that an expired or revoked link's error
carries, for a correctly signed link only."""

from __future__ import annotations

import pytest

from gateway.company.portal_settings import CANCELLATION_REASONS
from tests.portal.conftest import Tenant, make_tenant
from tests.portal.test_access import REVOKE
from tests.portal.test_failure_order import expired, forged
from tests.support import Gateway, error_codes

SETTINGS = """mutation($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { pauseEnabled } }"""
READ = """{ portal { settings { pauseEnabled cancellationMode cancellationReasons returnUrl
                                 newLinkUrl defaultLocale } } }"""
WHO = "{ portal { customer { uid } } }"
WAYS_ON = {"newLinkUrl": "https://www.acme.example/billing",
           "returnUrl": "https://www.acme.example/account"}


@pytest.fixture
async def tenant(gw: Gateway) -> Tenant:
    return await make_tenant(gw)


async def configure(tenant: Tenant, **settings: object) -> None:
    await tenant.gw.gql_data(SETTINGS, {"input": settings}, tenant.api_key)


async def test_the_page_reads_the_defaults(tenant: Tenant) -> None:
    body = await tenant.portal(READ)
    assert body["data"]["portal"]["settings"] == {
        "pauseEnabled": True, "cancellationMode": "IMMEDIATELY",
        "cancellationReasons": list(CANCELLATION_REASONS), "returnUrl": None,
        "newLinkUrl": None, "defaultLocale": "en"}


async def test_the_page_reads_what_the_merchant_set(tenant: Tenant) -> None:
    await configure(tenant, pauseEnabled=False, cancellationMode="AT_PERIOD_END",
                    cancellationReasons=["unused"], defaultLocale="fr", **WAYS_ON)
    body = await tenant.portal(READ)
    assert body["data"]["portal"]["settings"] == {
        "pauseEnabled": False, "cancellationMode": "AT_PERIOD_END",
        "cancellationReasons": ["unused"], "defaultLocale": "fr", **WAYS_ON}


class TestWaysOn:
    async def test_an_expired_link_carries_them(self, tenant: Tenant) -> None:
        await configure(tenant, **WAYS_ON)
        body = await tenant.portal(WHO, link=expired(tenant.gw, tenant.company.id,
                                                     tenant.customer.uid))
        assert error_codes(body) == ["PORTAL_LINK_EXPIRED"]
        extensions = body["errors"][0]["extensions"]
        assert {key: extensions.get(key) for key in WAYS_ON} == WAYS_ON

    async def test_a_revoked_link_carries_them(self, tenant: Tenant) -> None:
        await configure(tenant, **WAYS_ON)
        tenant.gw.clock.advance(1)
        await tenant.gw.gql_data(REVOKE, {"id": tenant.customer.uid}, tenant.api_key)
        body = await tenant.portal(WHO)
        assert error_codes(body) == ["PORTAL_LINK_INVALID"]
        extensions = body["errors"][0]["extensions"]
        assert {key: extensions.get(key) for key in WAYS_ON} == WAYS_ON

    async def test_only_those_set(self, tenant: Tenant) -> None:
        await configure(tenant, newLinkUrl=WAYS_ON["newLinkUrl"])
        body = await tenant.portal(WHO, link=expired(tenant.gw, tenant.company.id,
                                                     tenant.customer.uid))
        extensions = body["errors"][0]["extensions"]
        assert extensions["newLinkUrl"] == WAYS_ON["newLinkUrl"]
        assert "returnUrl" not in extensions

    async def test_none_set_none_carried(self, tenant: Tenant) -> None:
        body = await tenant.portal(WHO, link=expired(tenant.gw, tenant.company.id,
                                                     tenant.customer.uid))
        assert set(body["errors"][0]["extensions"]).isdisjoint(WAYS_ON)

    async def test_a_forged_link_learns_nothing(self, tenant: Tenant) -> None:
        await configure(tenant, **WAYS_ON)
        body = await tenant.portal(WHO, link=forged(tenant.gw, tenant.company.id,
                                                    tenant.customer.uid))
        assert error_codes(body) == ["PORTAL_LINK_INVALID"]
        assert body["errors"][0]["extensions"] == {"code": "PORTAL_LINK_INVALID"}
        assert tenant.company.id not in str(body)

    async def test_a_mutation_with_an_expired_link_carries_them(self, tenant: Tenant) -> None:
        await configure(tenant, **WAYS_ON)
        body = await tenant.portal(
            'mutation { updatePortalDisplayName(name: "Ada") { name } }',
            link=expired(tenant.gw, tenant.company.id, tenant.customer.uid))
        assert error_codes(body) == ["PORTAL_LINK_EXPIRED"]
        assert body["errors"][0]["extensions"]["newLinkUrl"] == WAYS_ON["newLinkUrl"]


async def test_other_companies_settings_stay_apart(gw: Gateway) -> None:
    one, two = await make_tenant(gw, "One"), await make_tenant(gw, "Two")
    await configure(one, pauseEnabled=False)
    assert (await two.portal(READ))["data"]["portal"]["settings"]["pauseEnabled"] is True
