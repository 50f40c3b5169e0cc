"""Portal settings with a dashboard session: settings.manage on the company named;
what a user changes, in the settingsChanges trail."""

from __future__ import annotations

from gateway.dashboard.repository import UserRepository
from tests.company.test_portal_settings import CHANGED, READ, UPDATE, stored
from tests.dashboard.conftest import OWNER, Team, sign_in
from tests.factories import create_api_key, create_user
from tests.support import error_codes


class TestDashboard:
    async def test_with_settings_manage(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        data = await team.gw.gql_data(UPDATE, {"input": CHANGED, "company": team.company.id},
                                      headers=browser.headers())
        assert data["updatePortalSettings"] == CHANGED
        read = await team.gw.gql_data(READ, {"company": team.company.id},
                                      headers=browser.headers())
        assert read["portalSettings"] == CHANGED

    async def test_without_settings_manage_is_forbidden_and_changes_nothing(
        self, team: Team
    ) -> None:
        browser = await sign_in(team.gw)
        body = (await team.gw.gql(UPDATE, {"input": CHANGED, "company": team.other.id},
                                 headers=browser.headers())).json()
        assert error_codes(body) == ["FORBIDDEN"]
        assert error_codes((await team.gw.gql(READ, {"company": team.other.id},
                                             headers=browser.headers())).json()) == ["FORBIDDEN"]
        assert await stored(team.gw, team.other.id) is None

    async def test_a_member_without_the_permission_is_forbidden(self, team: Team) -> None:
        await create_user(team.gw, "viewer@example.com", grants={team.company.id: ["customers.read"]})
        browser = await sign_in(team.gw, "viewer@example.com")
        body = (await team.gw.gql(UPDATE, {"input": CHANGED, "company": team.company.id},
                                 headers=browser.headers())).json()
        assert error_codes(body) == ["FORBIDDEN"]
        assert await stored(team.gw, team.company.id) is None


CHANGES = """query($company: ID) { settingsChanges(companyId: $company) {
  edges { node { action actorType actorId actorEmail changes { field before after }
                 clientIp userAgent } } } }"""


class TestSettingsChanges:
    async def test_a_change_records_the_user_with_their_email(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        headers = {**browser.headers(), "user-agent": "Mozilla/5.0 (Dashboard)"}
        await team.gw.gql_data(UPDATE, {"input": {"pauseEnabled": False, "defaultLocale": "en"},
                                        "company": team.company.id}, headers=headers)

        data = await team.gw.gql_data(CHANGES, {"company": team.company.id}, headers=headers)

        owner = await user_id(team, OWNER)
        assert [edge["node"] for edge in data["settingsChanges"]["edges"]] == [{
            "action": "portal_settings.update", "actorType": "DASHBOARD_USER",
            "actorId": owner, "actorEmail": OWNER,
            "changes": [{"field": "pauseEnabled", "before": True, "after": False}],
            "clientIp": "203.0.113.7", "userAgent": "Mozilla/5.0 (Dashboard)"}]
        assert browser.session_id not in str(data)
        assert browser.csrf_token not in str(data)

    async def test_a_key_reads_what_a_user_changed(self, team: Team) -> None:
        browser = await sign_in(team.gw)
        await team.gw.gql_data(UPDATE, {"input": CHANGED, "company": team.company.id},
                               headers=browser.headers())
        key = await create_api_key(team.gw, team.company)

        data = await team.gw.gql_data(CHANGES, headers=key)

        [node] = [edge["node"] for edge in data["settingsChanges"]["edges"]]
        assert (node["actorType"], node["actorEmail"]) == ("DASHBOARD_USER", OWNER)

    async def test_another_companys_changes_are_forbidden(self, team: Team) -> None:
        other_key = await create_api_key(team.gw, team.other)
        await team.gw.gql_data(UPDATE, {"input": CHANGED}, headers=other_key)
        browser = await sign_in(team.gw)

        body = (await team.gw.gql(CHANGES, {"company": team.other.id},
                                  headers=browser.headers())).json()

        assert error_codes(body) == ["FORBIDDEN"]
        assert body["data"] is None
        assert CHANGED["returnUrl"] not in str(body)

    async def test_without_settings_manage_reading_is_forbidden(self, team: Team) -> None:
        await create_user(team.gw, "viewer@example.com", grants={team.company.id: ["customers.read"]})
        owner = await sign_in(team.gw)
        await team.gw.gql_data(UPDATE, {"input": CHANGED, "company": team.company.id},
                               headers=owner.headers())
        viewer = await sign_in(team.gw, "viewer@example.com")

        body = (await team.gw.gql(CHANGES, {"company": team.company.id},
                                  headers=viewer.headers())).json()

        assert error_codes(body) == ["FORBIDDEN"]
        assert body["data"] is None

    async def test_a_session_must_name_the_company_and_send_its_csrf_token(
        self, team: Team
    ) -> None:
        browser = await sign_in(team.gw)
        unnamed = (await team.gw.gql(CHANGES, headers=browser.headers())).json()
        no_csrf = (await team.gw.gql(CHANGES, {"company": team.company.id},
                                     headers=browser.headers(csrf=None))).json()
        assert error_codes(unnamed) == ["BAD_REQUEST"]
        assert error_codes(no_csrf) == ["FORBIDDEN"]

    async def test_a_forbidden_change_records_nothing(self, team: Team) -> None:
        await create_user(team.gw, "viewer@example.com", grants={team.company.id: ["customers.read"]})
        viewer = await sign_in(team.gw, "viewer@example.com")
        await team.gw.gql(UPDATE, {"input": CHANGED, "company": team.company.id},
                          headers=viewer.headers())
        key = await create_api_key(team.gw, team.company)

        data = await team.gw.gql_data(CHANGES, headers=key)

        assert data["settingsChanges"]["edges"] == []


async def user_id(team: Team, email: str) -> str:
    async with team.gw.state.session_factory() as session:
        user = await UserRepository(session).get_by_email(email)
        assert user is not None
        return str(user.id)
