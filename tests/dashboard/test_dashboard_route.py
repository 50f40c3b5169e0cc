"""POST /api/dashboard/companies/{companyId}/makepay/customers/{customerId}/portal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.models import Customer
from tests.dashboard.conftest import OWNER, PASSWORD, Team, portal_route, sign_in
from tests.factories import (
    change_permission,
    create_api_key,
    create_company,
    create_customer,
    create_user,
)


def partner_route(customer_id: str) -> str:
    return f"/api/partner/v1/makepay/customers/{customer_id}/portal"


class TestAllowed:
    async def test_returns_the_partner_routes_body(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        key = await create_api_key(team.gw, team.company)

        dashboard = await team.gw.client.post(
            portal_route(team.company.id, team.customer.uid), headers=browser.headers())
        partner = await team.gw.client.post(partner_route(team.customer.uid), headers=key)

        assert dashboard.status_code == partner.status_code == 200
        body, reference = dashboard.json(), partner.json()
        assert list(body) == list(reference) == ["ok", "companyId", "customer", "expiresAt"]
        assert list(body["customer"]) == list(reference["customer"])
        assert body["companyId"] == team.company.id
        urls = body["customer"].pop("urls"), reference["customer"].pop("urls")
        assert body["customer"] == reference["customer"]
        assert urls[0]["customerPortal"].startswith(
            f"https://makepay.io/billing?company={team.company.id}&customer={team.customer.uid}&")
        assert dashboard.headers["cache-control"] == "no-store"

    async def test_accepts_the_customer_uuid(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.client.post(
            portal_route(team.company.id, str(team.customer.id)), headers=browser.headers())

        assert response.status_code == 200
        assert response.json()["customer"]["uid"] == team.customer.uid

    async def test_the_link_opens_the_portal(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        response = await team.gw.client.post(
            portal_route(team.company.id, team.customer.uid), headers=browser.headers())
        query = response.json()["customer"]["urls"]["customerPortal"].split("?", 1)[1]

        link = team.gw.state.signer.verify(query)

        assert (link.company_id, link.customer_uid) == (team.company.id, team.customer.uid)


class TestPermissionMatrix:
    @pytest.mark.parametrize(("permissions", "status"), [
        (["settings.manage"], 200),
        (["payments.read", "settings.manage"], 200),
        (["payments.read"], 403),
        ([], 403),
    ])
    async def test_member_needs_settings_manage(
        self, team: Team, permissions: list[str], status: int
    ) -> None:
        await create_user(team.gw, "member@example.com", PASSWORD,
                          grants={team.company.id: permissions})
        if not permissions:  # a member with nothing left
            await change_permission(team.gw, "member@example.com", team.company, "payments.read",
                                    add=True)
            await change_permission(team.gw, "member@example.com", team.company, "payments.read",
                                    add=False)
        browser = await sign_in(team.gw, "member@example.com")

        response = await team.gw.client.post(
            portal_route(team.company.id, team.customer.uid), headers=browser.headers())

        assert response.status_code == status
        if status == 403:
            assert response.json()["error"]["code"] == "FORBIDDEN"

    @pytest.mark.parametrize(("company", "customer", "status", "code"), [
        ("acct_globex", "other_customer", 403, "FORBIDDEN"),  # a company they are not in
        ("acct_nosuch", "customer", 403, "FORBIDDEN"),  # refused like a foreign one
        ("acct_acme", "other_customer", 404, "NOT_FOUND"),  # not a customer of acct_acme
        ("not-a-company", "customer", 400, "BAD_REQUEST"),
    ])
    async def test_outside_the_users_company(
        self, team: Team, company: str, customer: str, status: int, code: str
    ) -> None:
        browser = await sign_in(team.gw)
        target: Customer = getattr(team, customer)

        response = await team.gw.client.post(portal_route(company, target.uid),
                                             headers=browser.headers())

        assert response.status_code == status
        assert response.json()["error"]["code"] == code
        assert team.other_customer.email not in response.text

    async def test_revoking_applies_to_the_very_next_request(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        route = portal_route(team.company.id, team.customer.uid)
        assert (await team.gw.client.post(route, headers=browser.headers())).status_code == 200

        await change_permission(team.gw, OWNER, team.company, "settings.manage", add=False)

        response = await team.gw.client.post(route, headers=browser.headers())
        assert response.status_code == 403

    async def test_granting_applies_without_signing_in_again(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        route = portal_route(team.other.id, team.other_customer.uid)
        assert (await team.gw.client.post(route, headers=browser.headers())).status_code == 403

        await change_permission(team.gw, OWNER, team.other, "settings.manage", add=True)

        assert (await team.gw.client.post(route, headers=browser.headers())).status_code == 200


class TestSession:
    async def test_no_session_is_unauthenticated(self, team: Team) -> None:
        response = await team.gw.client.post(portal_route(team.company.id, team.customer.uid))

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"

    async def test_unknown_session_is_unauthenticated(self, team: Team) -> None:
        response = await team.gw.client.post(
            portal_route(team.company.id, team.customer.uid),
            headers={"cookie": "makepay_session=" + "x" * 43, "x-csrf-token": "y" * 43})

        assert response.status_code == 401

    async def test_logged_out_session_is_unauthenticated(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        await team.gw.client.post("/api/auth/logout", headers=browser.headers())

        response = await team.gw.client.post(
            portal_route(team.company.id, team.customer.uid), headers=browser.headers())

        assert response.status_code == 401

    async def test_idle_session_expires(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        team.gw.clock.advance(31 * 60)

        response = await team.gw.client.post(
            portal_route(team.company.id, team.customer.uid), headers=browser.headers())

        assert response.status_code == 401

    async def test_activity_keeps_the_session_alive(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        route = portal_route(team.company.id, team.customer.uid)
        for _ in range(3):
            team.gw.clock.advance(20 * 60)
            assert (await team.gw.client.post(route, headers=browser.headers())).status_code == 200

        team.gw.clock.advance(31 * 60)

        assert (await team.gw.client.post(route, headers=browser.headers())).status_code == 401

    async def test_absolute_lifetime_ends_even_an_active_session(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard(session_absolute_hours=1)
        company = await create_company(gw, "Acme", "acct_acme")
        customer = await create_customer(gw, company)
        await create_user(gw, grants={company.id: ["settings.manage"]})
        browser = await sign_in(gw)
        route = portal_route(company.id, customer.uid)
        for _ in range(2):
            gw.clock.advance(25 * 60)
            assert (await gw.client.post(route, headers=browser.headers())).status_code == 200

        gw.clock.advance(11 * 60)

        assert (await gw.client.post(route, headers=browser.headers())).status_code == 401


class TestCsrf:
    async def test_missing_token_is_forbidden(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.client.post(
            portal_route(team.company.id, team.customer.uid), headers=browser.headers(csrf=None))

        assert response.status_code == 403
        assert response.json()["error"]["code"] == "FORBIDDEN"
        assert browser.csrf_token not in response.text

    async def test_wrong_token_is_forbidden(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.client.post(
            portal_route(team.company.id, team.customer.uid),
            headers=browser.headers(csrf="z" * 43))

        assert response.status_code == 403

    async def test_another_sessions_token_is_forbidden(self, team: Team) -> None:
        await create_user(team.gw, "second@example.com", PASSWORD)
        mine = await sign_in(team.gw)
        theirs = await sign_in(team.gw, "second@example.com")

        response = await team.gw.client.post(
            portal_route(team.company.id, team.customer.uid),
            headers=mine.headers(csrf=theirs.csrf_token))

        assert response.status_code == 403


class TestCredentialKinds:
    async def test_an_api_key_cannot_use_the_dashboard_route(self, team: Team) -> None:
        key = await create_api_key(team.gw, team.company)

        response = await team.gw.client.post(
            portal_route(team.company.id, team.customer.uid), headers=key)

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"

    async def test_a_session_cannot_use_the_partner_route(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.client.post(
            partner_route(team.customer.uid), headers=browser.headers())

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"


class TestRateLimit:
    async def test_each_user_has_a_link_budget(self, start_dashboard: Callable[..., Any]) -> None:
        gw = await start_dashboard(rate_limit_links_per_minute=2)
        company = await create_company(gw, "Acme", "acct_acme")
        customer = await create_customer(gw, company)
        grants = {company.id: ["settings.manage"]}
        await create_user(gw, OWNER, PASSWORD, grants=grants)
        await create_user(gw, "colleague@example.com", PASSWORD, grants=grants)
        owner, colleague = await sign_in(gw), await sign_in(gw, "colleague@example.com")
        route = portal_route(company.id, customer.uid)
        for _ in range(2):
            assert (await gw.client.post(route, headers=owner.headers())).status_code == 200

        limited = await gw.client.post(route, headers=owner.headers())

        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "RATE_LIMITED"
        assert int(limited.headers["retry-after"]) >= 1
        assert (await gw.client.post(route, headers=colleague.headers())).status_code == 200
