"""The demo portal (seeded by the CLI) checked by axe-core, and its screenshots.

axe-core comes from a pinned Python package (its axe.min.js); nothing is
downloaded at test time. It is evaluated through the DevTools protocol, so the
page's Content-Security-Policy stays on while it runs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from gateway.signing.link import sign
from tests.e2e.conftest import (
    DESKTOP,
    OUTPUT,
    PHONE,
    SIGNING_SECRET,
    Server,
    expect_on_screen,
    screenshot,
)

pytestmark = pytest.mark.e2e

BLOCKING = {"serious", "critical"}
_axe = Axe()


async def axe_violations(page: Page, label: str) -> list[dict[str, Any]]:
    # What a person sees once transitions end (a message fading in is, for 160 ms,
    # text at part opacity, which axe would measure as low contrast).
    await page.evaluate("Promise.all(document.getAnimations().map((a) => a.finished))")
    results = await _axe.run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    OUTPUT.mkdir(exist_ok=True)
    summary = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                "targets": [node["target"] for node in v["nodes"]]} for v in violations]
    (OUTPUT / f"axe-{label}.json").write_text(json.dumps(summary, indent=2))
    return [v for v in violations if v["impact"] in BLOCKING]


@pytest.fixture(scope="module")
async def demo_url(server: Server) -> str:
    """`gateway seed-demo`, then a fresh link from the partner REST route with its key."""
    seeded = server.cli("seed-demo")
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post(
            f"/api/partner/v1/makepay/customers/{seeded['customerUid']}/portal",
            headers={"x-makecrypto-key-id": seeded["keyId"],
                     "x-makecrypto-key-secret": seeded["secret"], "accept": "application/json"})
    assert response.status_code == 200, response.text
    url: str = response.json()["customer"]["urls"]["customerPortal"]
    return url


@pytest.mark.parametrize(("label", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
async def test_demo_portal_has_no_serious_accessibility_violations(
    demo_url: str, open_page: Callable[..., Any], label: str, viewport: dict[str, int]
) -> None:
    page: Page = await open_page(viewport)
    await page.goto(demo_url)
    await expect(page.locator("#company-name")).to_have_text("Demo Merchant")
    await expect(page.locator("#display-name")).to_have_text("Ada Lovelace")
    await expect(page.get_by_role("region", name="Payment history").get_by_role("listitem")).to_have_count(10)
    # The seeded branding is part of what axe checks: the accent and the support link.
    await expect(page.get_by_role("link", name="support@example.com")).to_be_visible()
    await screenshot(page, f"portal-{label}")

    assert await axe_violations(page, f"portal-{label}") == []


async def test_dialog_and_name_form_have_no_serious_accessibility_violations(
    demo_url: str, open_page: Callable[..., Any]
) -> None:
    page: Page = await open_page()
    await page.goto(demo_url)
    await page.get_by_role("button", name="Edit display name").click()
    await expect(page.get_by_label("Display name")).to_be_focused()
    assert await axe_violations(page, "name-form") == []

    await page.keyboard.press("Escape")
    await page.get_by_role("button", name="Cancel Pro").click()
    await expect(page.get_by_role("dialog", name="Cancel Pro?")).to_be_visible()
    await screenshot(page, "dialog-desktop", full_page=False)
    assert await axe_violations(page, "dialog") == []


@pytest.mark.parametrize(("label", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
async def test_success_message_has_no_serious_accessibility_violations(
    demo_url: str, open_page: Callable[..., Any], label: str, viewport: dict[str, int]
) -> None:
    page: Page = await open_page(viewport)
    await page.goto(demo_url)
    await page.get_by_role("button", name="Edit display name").click()
    await page.get_by_role("button", name="Save").click()  # the same name: nothing changes
    message = page.get_by_role("status").filter(has_text="Display name saved.")
    await expect_on_screen(message)
    await message.hover()  # it stays while pointed at, so axe sees it
    await screenshot(page, f"message-{label}", full_page=False)
    await expect_on_screen(message)

    assert await axe_violations(page, f"message-{label}") == []


async def test_expired_state_has_no_serious_accessibility_violations(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    expires = int(time.time()) - 60
    signature = sign(SIGNING_SECRET, server.company_id, customer["uid"], expires)
    page: Page = await open_page(PHONE)
    await page.goto(f"{server.base_url}/billing?company={server.company_id}"
                    f"&customer={customer['uid']}&expires={expires}&signature={signature}")
    await expect(page.get_by_role("heading", name="This billing link has expired")).to_be_visible()
    await screenshot(page, "state-expired-phone")

    assert await axe_violations(page, "expired") == []
