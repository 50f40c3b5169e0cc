"""The merchant's portal branding on the page: accent colour, display name and support
contacts, set through the merchant API and seen in headless Chromium."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import PHONE, Server, screenshot
from tests.e2e.test_accessibility import axe_violations

pytestmark = pytest.mark.e2e

BRANDING = {"accentColor": "#be185d", "supportEmail": "billing-help@acme.example",
            "supportUrl": "https://help.acme.example/billing", "displayName": "Acme Cloud"}
ACCENT_RGB = "rgb(190, 24, 93)"  # #be185d
ACCENT_STRONG_RGB = "rgb(162, 20, 79)"  # #be185d at 85%
DEFAULT_RGB = "rgb(79, 70, 229)"  # the stylesheet's own #4f46e5


@pytest.fixture(scope="module")
async def branded(server: Server) -> Server:
    """A second merchant on the same gateway (created with the CLI), with branding set
    through its own API key."""
    company = server.cli("create-company", "--name", "Acme Hosting Ltd")
    key = server.cli("create-api-key", "--company", company["id"])
    merchant = dataclasses.replace(server, company_id=company["id"], api_headers={
        "x-makecrypto-key-id": key["keyId"], "x-makecrypto-key-secret": key["secret"]})
    data = await merchant.merchant(
        "mutation($input: PortalBrandingInput!) { updatePortalBranding(input: $input) { accentColor } }",
        {"input": BRANDING})
    assert data["updatePortalBranding"]["accentColor"] == BRANDING["accentColor"]
    return merchant


async def open_portal(merchant: Server, open_page: Callable[..., Any],
                      viewport: dict[str, int] | None = None) -> Page:
    customer = await merchant.create_customer("Ada Lovelace")
    await merchant.create_payment_link(customer, description="Invoice #7")
    await merchant.create_subscription(customer, planName="Pro")
    page: Page = await open_page(viewport)
    await page.goto(await merchant.portal_url(customer))
    await expect(page.locator("#display-name")).to_have_text("Ada Lovelace")
    return page


async def background(page: Page, selector: str) -> str:
    value: str = await page.locator(selector).first.evaluate(
        "element => getComputedStyle(element).backgroundColor")
    return value


async def test_the_accent_colour_and_display_name_are_applied(
    branded: Server, open_page: Callable[..., Any]
) -> None:
    page = await open_portal(branded, open_page)

    await expect(page.locator("#company-name")).to_have_text("Acme Cloud")
    await expect(page.locator(".brand-mark")).to_have_text("A")
    await expect(page).to_have_title("Billing · Acme Cloud")
    await expect(page.locator("#greeting")).to_contain_text("with Acme Cloud.")
    pay = page.get_by_role("region", name="Open payments").get_by_role("link", name="Pay", exact=False)
    assert await pay.evaluate("element => getComputedStyle(element).backgroundColor") == ACCENT_RGB
    assert await background(page, ".brand-mark") == ACCENT_RGB
    # Hover and the focus ring use a darker shade of it (85%), so they keep the contrast.
    await page.keyboard.press("Tab")  # keyboard use: focus rings show
    await pay.focus()
    assert await pay.evaluate("element => getComputedStyle(element).outlineColor") == ACCENT_STRONG_RGB
    # Set through the CSSOM: the page still has no inline style attribute in its markup.
    assert await page.evaluate("getComputedStyle(document.documentElement)"
                               ".getPropertyValue('--brand').trim()") == BRANDING["accentColor"]
    await screenshot(page, "branded-desktop")


async def test_support_contacts_are_links(branded: Server, open_page: Callable[..., Any]) -> None:
    page = await open_portal(branded, open_page)
    account = page.get_by_role("region", name="Account")

    await expect(account.get_by_role("heading", name="Need help?")).to_be_visible()
    await expect(account).to_contain_text("contact Acme Cloud")
    email = account.get_by_role("link", name=BRANDING["supportEmail"])
    help_centre = account.get_by_role("link", name="Help centre (opens in a new tab)")
    await expect(email).to_be_visible()
    await expect(email).to_have_attribute("href", f"mailto:{BRANDING['supportEmail']}")
    await expect(help_centre).to_have_attribute("href", BRANDING["supportUrl"])
    await expect(help_centre).to_have_attribute("target", "_blank")
    await expect(help_centre).to_have_attribute("rel", "noopener noreferrer")


async def test_the_branded_page_has_no_serious_accessibility_violations(
    branded: Server, open_page: Callable[..., Any]
) -> None:
    page = await open_portal(branded, open_page, PHONE)
    await expect(page.get_by_role("link", name=BRANDING["supportEmail"])).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    await screenshot(page, "branded-phone")

    assert width <= PHONE["width"]
    assert await axe_violations(page, "branded-phone") == []


async def test_without_branding_the_page_keeps_its_own_look(
    server: Server, open_page: Callable[..., Any]
) -> None:
    page = await open_portal(server, open_page)

    await expect(page.locator("#company-name")).to_have_text("Northwind Hosting")
    assert await background(page, ".brand-mark") == DEFAULT_RGB
    await expect(page.get_by_role("region", name="Account")).to_contain_text(
        "To change your email, contact the merchant.")
    await expect(page.locator("#support")).to_have_count(0)
