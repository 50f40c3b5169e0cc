"""A dashboard session with settings.manage manages webhooks for its company only;
its portal links are events with source dashboard."""

from __future__ import annotations

from tests.dashboard.conftest import Team, portal_route, sign_in
from tests.support import error_codes
from tests.webhook.support import CREATE

EVENTS = "query($c: ID) { events(companyId: $c) { edges { node { type source } } } }"


async def test_a_session_creates_an_endpoint_for_its_company_and_sees_its_events(
    team: Team,
) -> None:
    gw = team.gw
    browser = await sign_in(gw)
    created = await gw.gql(
        "mutation($c: ID, $i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i, "
        "companyId: $c) { secret endpoint { id } } }",
        {"c": team.company.id, "i": {"url": "https://hooks.example.com/a"}}, browser.headers())
    link = await gw.client.post(portal_route(team.company.id, team.customer.uid),
                                headers=browser.headers())

    assert created.json()["data"]["createWebhookEndpoint"]["secret"].startswith("whsec_")
    assert link.status_code == 200
    data = await gw.gql_data(EVENTS, {"c": team.company.id}, browser.headers())
    assert [e["node"] for e in data["events"]["edges"]] == [
        {"type": "portal_link.created", "source": "dashboard"}]


async def test_a_session_cannot_reach_another_company(team: Team) -> None:
    gw = team.gw
    browser = await sign_in(gw)

    created = await gw.gql(CREATE.replace("createWebhookEndpoint(input: $input)",
                                          "createWebhookEndpoint(input: $input, companyId: $c)")
                           .replace("mutation($input", "mutation($c: ID, $input"),
                           {"c": team.other.id, "input": {"url": "https://hooks.example.com/"}},
                           browser.headers())
    events = await gw.gql(EVENTS, {"c": team.other.id}, browser.headers())
    without_csrf = await gw.gql(EVENTS, {"c": team.company.id}, browser.headers(csrf=None))

    assert error_codes(created.json()) == ["FORBIDDEN"]
    assert error_codes(events.json()) == ["FORBIDDEN"]
    assert error_codes(without_csrf.json()) == ["FORBIDDEN"]
