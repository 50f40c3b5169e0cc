"""Links from `gateway create-portal-link`, opened in the browser: a default one shows the
customer's portal, one with a negative expiry the expired screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


async def test_a_link_from_the_cli_opens_the_portal(server: Server, open_page: Callable[..., Any]) -> None:
    customer = await server.create_customer("Katherine Johnson")
    created = server.cli("create-portal-link", "--company", server.company_id, "--customer", customer["uid"])
    page: Page = await open_page()
    await page.goto(created["portalUrl"])

    await expect(page.get_by_role("region", name="Account").locator("#display-name")).to_have_text(
        "Katherine Johnson")


async def test_a_negative_expiry_from_the_cli_shows_the_expired_screen(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    created = server.cli("create-portal-link", "--company", server.company_id, "--customer", customer["id"],
                         "--expires-in", "-60")
    page: Page = await open_page()
    await page.goto(created["portalUrl"])

    await expect(page.get_by_role("heading", name="This billing link has expired", level=1)).to_be_visible()
    await expect(page.get_by_role("region", name="Account")).to_have_count(0)
