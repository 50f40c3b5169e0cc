"""GraphiQL in headless Chromium with every host but the gateway's own blocked, as on a
machine without internet access: the page, its scripts and styles all come from the
gateway, and a portal query runs with the link in the headers pane."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from playwright.async_api import Page, Route, expect

from tests.e2e.conftest import Server, screenshot

pytestmark = pytest.mark.e2e


async def open_offline(open_page: Callable[..., Any], server: Server, path: str) -> tuple[Page, list[str]]:
    """Opens `path`; any request to another host is aborted and remembered."""
    page: Page = await open_page()
    own = urlsplit(server.base_url).netloc
    elsewhere: list[str] = []

    async def only_the_gateway(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own:
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await page.context.route("**/*", only_the_gateway)
    await page.goto(f"{server.base_url}{path}")
    return page, elsewhere


async def test_graphiql_runs_a_portal_query_with_other_hosts_blocked(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer("Grace Hopper")
    link = urlsplit(await server.portal_url(customer)).query
    query = "{ portal { customer { name } } }"
    page, elsewhere = await open_offline(open_page, server, f"/graphql?query={quote(query)}")

    await page.get_by_role("button", name="Headers", exact=True).click()
    headers_editor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
    await headers_editor.click()
    await page.keyboard.insert_text(f'{{"x-makepay-portal": "{link}"}}')
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()

    result = page.locator(".result-window")
    await expect(result).to_contain_text('"name": "Grace Hopper"')
    await screenshot(page, "graphiql-portal-query")
    assert elsewhere == []


async def test_graphiql_explorer_plugin_lists_the_schema(
    server: Server, open_page: Callable[..., Any]
) -> None:
    page, elsewhere = await open_offline(open_page, server, "/graphql")

    await page.get_by_role("button", name="Show GraphiQL Explorer").click()

    explorer = page.locator(".graphiql-explorer-root")
    await expect(explorer).to_contain_text("portal")
    await expect(explorer).to_contain_text("customers")
    assert elsewhere == []
