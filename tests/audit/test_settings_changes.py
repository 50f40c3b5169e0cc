"""The merchant's own audit trail: settingsChanges, written by updatePortalSettings and
updatePortalBranding with an API key, over HTTP (the dashboard session:
tests/dashboard/test_portal_settings.py; the command: tests/test_cli.py)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.audit.service import OPERATOR
from gateway.company.portal_settings import CANCELLATION_REASONS
from gateway.company.service import CompanyService
from gateway.models import Company
from tests.company.test_branding_graphql import FULL as BRANDING
from tests.company.test_branding_graphql import UPDATE as UPDATE_BRANDING
from tests.company.test_portal_settings import CHANGED as SETTINGS
from tests.company.test_portal_settings import UPDATE as UPDATE_SETTINGS
from tests.factories import create_api_key, create_company
from tests.portal.conftest import make_tenant
from tests.support import Gateway, error_codes

CHANGES = """query($first: Int, $after: String, $company: ID) {
  settingsChanges(first: $first, after: $after, companyId: $company) {
    edges { cursor node { id action actorType actorId actorEmail
                          changes { field before after } clientIp userAgent createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
AGENT = {"user-agent": "AcmeBackend/2.1"}


class Merchant:
    """A company and its API key, and what its settingsChanges say."""

    def __init__(self, gw: Gateway, company_id: str, key: dict[str, str]) -> None:
        self.gw, self.company_id, self.key = gw, company_id, key

    async def send(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = (await self.gw.gql(document, variables,
                                                  {**self.key, **AGENT})).json()
        return body

    async def trail(self, **variables: Any) -> dict[str, Any]:
        return await self.send(CHANGES, variables)

    async def nodes(self, **variables: Any) -> list[dict[str, Any]]:
        body = await self.trail(**variables)
        assert "errors" not in body, body["errors"]
        return [edge["node"] for edge in body["data"]["settingsChanges"]["edges"]]


async def make_merchant(gw: Gateway, name: str = "Acme") -> Merchant:
    company = await create_company(gw, name)
    return Merchant(gw, company.id, await create_api_key(gw, company))


@pytest.fixture
async def merchant(gw: Gateway) -> Merchant:
    return await make_merchant(gw)


def as_changes(fields: dict[str, tuple[Any, Any]]) -> list[dict[str, Any]]:
    return [{"field": name, "before": before, "after": after}
            for name, (before, after) in fields.items()]


class TestPortalSettings:
    async def test_one_mutation_records_one_change_by_the_key_with_each_field(
        self, merchant: Merchant
    ) -> None:
        assert error_codes(await merchant.send(UPDATE_SETTINGS, {"input": SETTINGS})) == []

        [change] = await merchant.nodes()

        assert {k: v for k, v in change.items() if k not in ("id", "createdAt")} == {
            "action": "portal_settings.update", "actorType": "API_KEY",
            "actorId": merchant.key["x-makecrypto-key-id"], "actorEmail": None,
            "changes": as_changes({
                "pauseEnabled": (True, False), "cancellationMode": ("IMMEDIATELY", "AT_PERIOD_END"),
                "cancellationReasons": (list(CANCELLATION_REASONS), SETTINGS["cancellationReasons"]),
                "returnUrl": (None, SETTINGS["returnUrl"]),
                "newLinkUrl": (None, SETTINGS["newLinkUrl"]), "defaultLocale": ("en", "de")}),
            "clientIp": "203.0.113.7", "userAgent": "AcmeBackend/2.1"}
        assert change["createdAt"].endswith("Z")
        assert merchant.key["x-makecrypto-key-secret"] not in str(change)

    async def test_only_the_fields_whose_value_changed_are_kept(self, merchant: Merchant) -> None:
        await merchant.send(UPDATE_SETTINGS, {"input": {"returnUrl": SETTINGS["returnUrl"]}})
        merchant.gw.clock.advance(1)
        # The same return URL again, the default locale sent as it is, one real change.
        await merchant.send(UPDATE_SETTINGS, {"input": {
            "returnUrl": SETTINGS["returnUrl"], "defaultLocale": "en", "pauseEnabled": False}})

        latest, first = await merchant.nodes()

        assert latest["changes"] == as_changes({"pauseEnabled": (True, False)})
        assert first["changes"] == as_changes({"returnUrl": (None, SETTINGS["returnUrl"])})

    async def test_null_restoring_a_default_records_the_default(self, merchant: Merchant) -> None:
        await merchant.send(UPDATE_SETTINGS, {"input": SETTINGS})
        merchant.gw.clock.advance(1)
        await merchant.send(UPDATE_SETTINGS, {"input": {"cancellationReasons": None,
                                                        "returnUrl": None}})

        latest, _ = await merchant.nodes()

        assert latest["changes"] == as_changes({
            "cancellationReasons": (SETTINGS["cancellationReasons"], list(CANCELLATION_REASONS)),
            "returnUrl": (SETTINGS["returnUrl"], None)})

    async def test_a_change_to_what_is_already_set_records_nothing(
        self, merchant: Merchant
    ) -> None:
        await merchant.send(UPDATE_SETTINGS, {"input": SETTINGS})

        again = await merchant.send(UPDATE_SETTINGS, {"input": SETTINGS})
        one_again = await merchant.send(UPDATE_SETTINGS, {"input": {"pauseEnabled": False}})
        nothing = await merchant.send(UPDATE_SETTINGS, {"input": {}})

        assert error_codes(again) == error_codes(one_again) == error_codes(nothing) == []
        [only] = await merchant.nodes()
        assert len(only["changes"]) == len(SETTINGS)

    @pytest.mark.parametrize("refused", [
        {"returnUrl": "javascript:alert(1)"}, {"cancellationReasons": ["bored"]},
        {"defaultLocale": "it"}, {"cancellationMode": "NEVER"}])
    async def test_refused_input_records_nothing(
        self, merchant: Merchant, refused: dict[str, Any]
    ) -> None:
        body = await merchant.send(UPDATE_SETTINGS, {"input": {"pauseEnabled": False, **refused}})

        assert body.get("data") is None
        assert await merchant.nodes() == []


class TestBranding:
    async def test_a_change_records_the_key_and_each_field(self, merchant: Merchant) -> None:
        assert error_codes(await merchant.send(UPDATE_BRANDING, {"input": BRANDING})) == []
        merchant.gw.clock.advance(1)
        assert error_codes(await merchant.send(UPDATE_BRANDING, {"input": {
            "displayName": None, "accentColor": "#1d4ed8", "supportEmail": BRANDING["supportEmail"],
        }})) == []

        cleared, set_all = await merchant.nodes()

        assert (set_all["action"], set_all["actorType"], set_all["actorId"]) == (
            "branding.update", "API_KEY", merchant.key["x-makecrypto-key-id"])
        assert set_all["changes"] == as_changes({name: (None, value)
                                                 for name, value in BRANDING.items()})
        assert cleared["changes"] == as_changes({
            "accentColor": (BRANDING["accentColor"], "#1d4ed8"),
            "displayName": (BRANDING["displayName"], None)})
        assert (cleared["clientIp"], cleared["userAgent"]) == ("203.0.113.7", "AcmeBackend/2.1")

    async def test_the_same_branding_again_records_nothing(self, merchant: Merchant) -> None:
        await merchant.send(UPDATE_BRANDING, {"input": BRANDING})
        assert error_codes(await merchant.send(UPDATE_BRANDING, {"input": BRANDING})) == []
        assert len(await merchant.nodes()) == 1

    @pytest.mark.parametrize("refused", [
        {"accentColor": "#fde047"}, {"supportUrl": "http://help.acme.example"},
        {"displayName": "Acme\u202eCloud"}])
    async def test_refused_input_records_nothing(
        self, merchant: Merchant, refused: dict[str, Any]
    ) -> None:
        body = await merchant.send(UPDATE_BRANDING, {"input": {"supportEmail": "a@acme.example",
                                                               **refused}})
        assert error_codes(body) == ["BAD_REQUEST"]
        assert await merchant.nodes() == []


async def test_the_record_shares_the_changes_transaction(merchant: Merchant) -> None:
    gw = merchant.gw
    async with gw.state.session_factory() as session:
        await CompanyService(session, gw.clock).update_portal_settings(
            merchant.company_id, {"pause_enabled": False}, OPERATOR)
        await session.rollback()
    async with gw.state.session_factory() as session:
        company = await session.get(Company, merchant.company_id)
        assert company is not None
        assert company.portal_settings is None
    assert await merchant.nodes() == []


async def test_settings_changes_stay_out_of_the_customers_audit_events(
    merchant: Merchant
) -> None:
    await merchant.send(UPDATE_SETTINGS, {"input": SETTINGS})
    await merchant.send(UPDATE_BRANDING, {"input": BRANDING})

    body = await merchant.send("{ auditEvents { edges { node { action } } } }", {})

    assert body == {"data": {"auditEvents": {"edges": []}}}
    assert len(await merchant.nodes()) == 2


class TestPaging:
    async def test_pages_follow_the_cursor_newest_first(self, merchant: Merchant) -> None:
        names = [f"Acme {n}" for n in range(5)]
        for name in names:
            await merchant.send(UPDATE_BRANDING, {"input": {"displayName": name}})
            merchant.gw.clock.advance(1)

        seen: list[Any] = []
        after = None
        pages = 0
        while True:
            connection = (await merchant.trail(first=2, after=after))["data"]["settingsChanges"]
            seen += [edge["node"]["changes"][0]["after"] for edge in connection["edges"]]
            pages += 1
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
            assert after == connection["edges"][-1]["cursor"]

        assert seen == list(reversed(names))
        assert pages == 3

    async def test_changes_in_the_same_instant_keep_one_order(self, merchant: Merchant) -> None:
        for name in ("One", "Two", "Three"):
            await merchant.send(UPDATE_BRANDING, {"input": {"displayName": name}})
        everything = [node["id"] for node in await merchant.nodes()]

        first = (await merchant.trail(first=1))["data"]["settingsChanges"]
        rest = await merchant.nodes(after=first["pageInfo"]["endCursor"])

        assert [first["edges"][0]["node"]["id"]] + [node["id"] for node in rest] == everything

    @pytest.mark.parametrize("variables", [
        {"first": 0}, {"first": 101}, {"after": "bm90IGEgY3Vyc29y"}, {"after": "%%%"},
        {"after": "aW5mfDZmMWMzYTUyLThkOGUtNGM0NC05YjUzLTBjN2YwZTBmNGExMQ"}])
    async def test_bad_arguments_are_bad_request(
        self, merchant: Merchant, variables: dict[str, Any]
    ) -> None:
        body = await merchant.trail(**variables)
        assert error_codes(body) == ["BAD_REQUEST"]
        assert body["data"] is None

    async def test_first_may_be_a_hundred(self, merchant: Merchant) -> None:
        assert (await merchant.nodes(first=100)) == []


class TestTenantIsolation:
    async def test_another_companys_key_reads_none_of_the_changes(self, gw: Gateway) -> None:
        victim = await make_merchant(gw, "Victim")
        attacker = await make_merchant(gw, "Attacker")
        await victim.send(UPDATE_SETTINGS, {"input": SETTINGS})

        body = await attacker.trail()

        assert body == {"data": {"settingsChanges": {
            "edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}
        assert len(await victim.nodes()) == 1

    async def test_naming_another_company_with_a_key_is_forbidden(self, gw: Gateway) -> None:
        victim = await make_merchant(gw, "Victim")
        attacker = await make_merchant(gw, "Attacker")
        await victim.send(UPDATE_SETTINGS, {"input": SETTINGS})

        body = await attacker.trail(company=victim.company_id)

        assert error_codes(body) == ["FORBIDDEN"]
        assert body["data"] is None
        assert SETTINGS["returnUrl"] not in str(body)

    async def test_a_cursor_from_another_company_reveals_nothing(self, gw: Gateway) -> None:
        victim = await make_merchant(gw, "Victim")
        attacker = await make_merchant(gw, "Attacker")
        for name in ("One", "Two"):
            await victim.send(UPDATE_BRANDING, {"input": {"displayName": name}})
            gw.clock.advance(1)
        cursor = (await victim.trail(first=1))["data"]["settingsChanges"]["pageInfo"]["endCursor"]

        assert await attacker.nodes(after=cursor) == []

    async def test_a_portal_link_or_nothing_is_unauthenticated(self, gw: Gateway) -> None:
        tenant = await make_tenant(gw)
        await tenant.gw.gql(UPDATE_SETTINGS, {"input": SETTINGS}, tenant.api_key)

        for headers in ({}, tenant.link):
            body = (await gw.gql(CHANGES, headers=headers)).json()
            assert error_codes(body) == ["UNAUTHENTICATED"]
            assert body["data"] is None
