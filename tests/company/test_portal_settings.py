"""Portal settings (contract section 11) over merchant GraphQL with an API key (the
dashboard session: tests/dashboard; the command: tests/test_cli.py)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.company.portal_settings import CANCELLATION_REASONS
from gateway.models import Company
from tests.factories import create_api_key, create_company
from tests.support import Gateway, error_codes

FIELDS = "pauseEnabled cancellationMode cancellationReasons returnUrl newLinkUrl defaultLocale"
READ = f"query($company: ID) {{ portalSettings(companyId: $company) {{ {FIELDS} }} }}"
UPDATE = f"""mutation($input: PortalSettingsInput!, $company: ID) {{
  updatePortalSettings(input: $input, companyId: $company) {{ {FIELDS} }} }}"""
DEFAULTS = {"pauseEnabled": True, "cancellationMode": "IMMEDIATELY",
            "cancellationReasons": list(CANCELLATION_REASONS), "returnUrl": None,
            "newLinkUrl": None, "defaultLocale": "en"}
# The "done when": every setting at once.
CHANGED = {"pauseEnabled": False, "cancellationMode": "AT_PERIOD_END",
           "cancellationReasons": ["too_expensive", "unused", "other"],
           "returnUrl": "https://www.acme.example/account",
           "newLinkUrl": "https://www.acme.example/billing", "defaultLocale": "de"}


async def stored(gw: Gateway, company_id: str) -> Any:
    async with gw.state.session_factory() as session:
        company = await session.get(Company, company_id)
        assert company is not None
        return company.portal_settings


@pytest.fixture
async def merchant(gw: Gateway) -> tuple[Gateway, dict[str, str], str]:
    company = await create_company(gw, "Acme")
    return gw, await create_api_key(gw, company), company.id


class TestApiKey:
    async def test_defaults_when_nothing_is_set(
        self, merchant: tuple[Gateway, dict[str, str], str]
    ) -> None:
        gw, key, _ = merchant
        assert (await gw.gql_data(READ, headers=key))["portalSettings"] == DEFAULTS

    async def test_every_setting_in_one_mutation(
        self, merchant: tuple[Gateway, dict[str, str], str]
    ) -> None:
        gw, key, company_id = merchant
        data = await gw.gql_data(UPDATE, {"input": CHANGED}, headers=key)
        assert data["updatePortalSettings"] == CHANGED
        assert (await gw.gql_data(READ, headers=key))["portalSettings"] == CHANGED
        assert await stored(gw, company_id) == CHANGED

    async def test_omitted_fields_stay_and_null_restores_the_default(
        self, merchant: tuple[Gateway, dict[str, str], str]
    ) -> None:
        gw, key, company_id = merchant
        await gw.gql_data(UPDATE, {"input": CHANGED}, headers=key)
        data = await gw.gql_data(UPDATE, {"input": {
            "returnUrl": None, "cancellationReasons": None, "pauseEnabled": None}}, headers=key)
        expected = {**CHANGED, "returnUrl": None, "pauseEnabled": True,
                    "cancellationReasons": list(CANCELLATION_REASONS)}
        assert data["updatePortalSettings"] == expected
        # Only what differs from the defaults is kept.
        assert await stored(gw, company_id) == {
            "cancellationMode": "AT_PERIOD_END", "newLinkUrl": CHANGED["newLinkUrl"],
            "defaultLocale": "de"}

    async def test_no_reasons_is_a_setting_of_its_own(
        self, merchant: tuple[Gateway, dict[str, str], str]
    ) -> None:
        gw, key, _ = merchant
        data = await gw.gql_data(UPDATE, {"input": {"cancellationReasons": []}}, headers=key)
        assert data["updatePortalSettings"]["cancellationReasons"] == []

    @pytest.mark.parametrize(("change", "field"), [
        ({"returnUrl": "http://www.acme.example"}, "returnUrl"),
        ({"returnUrl": "javascript:alert(document.domain)"}, "returnUrl"),
        ({"newLinkUrl": "https://user:pw@acme.example/new"}, "newLinkUrl"),
        ({"newLinkUrl": ""}, "newLinkUrl"),
        ({"cancellationReasons": ["too_expensive", "bored"]}, "cancellationReasons"),
        ({"cancellationReasons": ["unused", "unused"]}, "cancellationReasons"),
        ({"defaultLocale": "it"}, "defaultLocale"),
    ])
    async def test_invalid_input_is_bad_request_naming_the_field_and_saves_nothing(
        self, merchant: tuple[Gateway, dict[str, str], str], change: dict[str, Any], field: str
    ) -> None:
        gw, key, company_id = merchant
        # A valid change beside the invalid one: not half-saved.
        body = (await gw.gql(UPDATE, {"input": {"pauseEnabled": False, **change}}, headers=key)).json()
        assert error_codes(body) == ["BAD_REQUEST"]
        assert body["errors"][0]["extensions"]["field"] == field
        assert field in body["errors"][0]["message"]
        assert await stored(gw, company_id) is None

    async def test_an_unknown_mode_is_refused_by_the_schema(
        self, merchant: tuple[Gateway, dict[str, str], str]
    ) -> None:
        gw, key, company_id = merchant
        body = (await gw.gql(UPDATE, {"input": {"cancellationMode": "NEVER"}}, headers=key)).json()
        assert body.get("data") is None
        assert await stored(gw, company_id) is None

    async def test_no_setting_removes_cancel(self, gw: Gateway) -> None:
        """Legal: customers can always cancel. The input has exactly the contract's
        fields, none of which turns cancel off (the subscription tests cancel under the
        most restrictive settings)."""
        body = (await gw.gql('{ __type(name: "PortalSettingsInput") { inputFields { name } } }')).json()
        names = {field["name"] for field in body["data"]["__type"]["inputFields"]}
        assert names == set(DEFAULTS)
        assert not any("cancel" in name.lower() and "enabled" in name.lower() for name in names)

    async def test_another_companys_id_with_a_key_is_forbidden(
        self, merchant: tuple[Gateway, dict[str, str], str]
    ) -> None:
        gw, key, company_id = merchant
        other = await create_company(gw, "Globex")
        body = (await gw.gql(UPDATE, {"input": {"pauseEnabled": False}, "company": other.id},
                            headers=key)).json()
        assert error_codes(body) == ["FORBIDDEN"]
        assert await stored(gw, other.id) is None
        assert await stored(gw, company_id) is None

    async def test_without_credentials_is_unauthenticated(self, gw: Gateway) -> None:
        assert error_codes((await gw.gql(READ)).json()) == ["UNAUTHENTICATED"]
