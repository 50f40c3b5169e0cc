"""Portal settings with a dashboard session: settings.manage on the company named."""

from __future__ import annotations

from tests.company.test_portal_settings import CHANGED, READ, UPDATE, stored
from tests.dashboard.conftest import Team, sign_in
from tests.factories import create_user
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
