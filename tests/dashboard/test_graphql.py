"""createPortalLink and revokePortalLinks with a dashboard session."""

from __future__ import annotations

from tests.dashboard.conftest import PASSWORD, Team, sign_in
from tests.factories import create_api_key, create_user
from tests.support import error_codes

CREATE = """
mutation Create($customerId: ID!, $companyId: ID) {
  createPortalLink(customerId: $customerId, companyId: $companyId) {
    companyId
    customer { uid urls { customerPortal } }
    expiresAt
  }
}
"""
REVOKE = """
mutation Revoke($customerId: ID!, $companyId: ID) {
  revokePortalLinks(customerId: $customerId, companyId: $companyId) { customerId revokedBefore }
}
"""


class TestCreatePortalLink:
    async def test_works_with_a_session_and_settings_manage(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        data = await team.gw.gql_data(
            CREATE, {"customerId": team.customer.uid, "companyId": team.company.id},
            browser.headers())

        link = data["createPortalLink"]
        assert link["companyId"] == team.company.id
        assert link["customer"]["uid"] == team.customer.uid
        assert f"company={team.company.id}&" in link["customer"]["urls"]["customerPortal"]

    async def test_needs_the_csrf_header(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.gql(
            CREATE, {"customerId": team.customer.uid, "companyId": team.company.id},
            browser.headers(csrf=None))

        body = response.json()
        assert error_codes(body) == ["FORBIDDEN"]
        assert body["data"] is None

    async def test_wrong_csrf_token_is_forbidden(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.gql(
            CREATE, {"customerId": team.customer.uid, "companyId": team.company.id},
            browser.headers(csrf="q" * 43))

        assert error_codes(response.json()) == ["FORBIDDEN"]

    async def test_company_id_is_required_with_a_session(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.gql(CREATE, {"customerId": team.customer.uid}, browser.headers())

        assert error_codes(response.json()) == ["BAD_REQUEST"]

    async def test_without_settings_manage_is_forbidden(self, team: Team) -> None:
        await create_user(team.gw, "reader@example.com", PASSWORD,
                          grants={team.company.id: ["payments.read"]})
        browser = await sign_in(team.gw, "reader@example.com")

        response = await team.gw.gql(
            CREATE, {"customerId": team.customer.uid, "companyId": team.company.id},
            browser.headers())

        assert error_codes(response.json()) == ["FORBIDDEN"]

    async def test_another_company_is_forbidden(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.gql(
            CREATE, {"customerId": team.other_customer.uid, "companyId": team.other.id},
            browser.headers())

        assert error_codes(response.json()) == ["FORBIDDEN"]
        assert team.other_customer.email not in response.text

    async def test_expired_session_is_unauthenticated(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        team.gw.clock.advance(13 * 3600)

        response = await team.gw.gql(
            CREATE, {"customerId": team.customer.uid, "companyId": team.company.id},
            browser.headers())

        assert error_codes(response.json()) == ["UNAUTHENTICATED"]

    async def test_an_api_key_still_works_and_ignores_the_cookie(self, team: Team) -> None:
        key = await create_api_key(team.gw, team.other)
        browser = await sign_in(team.gw)

        data = await team.gw.gql_data(
            CREATE, {"customerId": team.other_customer.uid},
            {**key, "cookie": browser.headers()["cookie"]})

        assert data["createPortalLink"]["companyId"] == team.other.id

    async def test_a_mutation_over_get_never_runs(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.client.get("/graphql", params={
            "query": CREATE,
            "variables": f'{{"customerId": "{team.customer.uid}", "companyId": "{team.company.id}"}}',
        }, headers=browser.headers())

        assert response.status_code == 400
        assert "createPortalLink" not in (response.json().get("data") or {})

    async def test_a_form_post_never_runs(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.client.post(
            "/graphql", content=f"query={CREATE}",
            headers={**browser.headers(), "content-type": "application/x-www-form-urlencoded"})

        assert response.status_code == 415
        assert "data" not in response.json()


class TestRevokePortalLinks:
    async def test_works_with_a_session_and_kills_earlier_links(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        created = await team.gw.gql_data(
            CREATE, {"customerId": team.customer.uid, "companyId": team.company.id},
            browser.headers())

        data = await team.gw.gql_data(
            REVOKE, {"customerId": team.customer.uid, "companyId": team.company.id},
            browser.headers())

        assert data["revokePortalLinks"]["customerId"] == str(team.customer.id)
        url = created["createPortalLink"]["customer"]["urls"]["customerPortal"]
        cutoff = await team.gw.state.store.get(
            team.gw.state.keys.revocation(team.company.id, team.customer.uid))
        assert cutoff is not None
        assert int(url.split("expires=")[1].split("&")[0]) - 86400 <= int(cutoff)

    async def test_needs_settings_manage(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.gql(
            REVOKE, {"customerId": team.other_customer.uid, "companyId": team.other.id},
            browser.headers())

        assert error_codes(response.json()) == ["FORBIDDEN"]
        assert await team.gw.state.store.get(
            team.gw.state.keys.revocation(team.other.id, team.other_customer.uid)) is None

    async def test_needs_the_csrf_header(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.gql(
            REVOKE, {"customerId": team.customer.uid, "companyId": team.company.id},
            browser.headers(csrf=None))

        assert error_codes(response.json()) == ["FORBIDDEN"]
