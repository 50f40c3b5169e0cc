"""The portal page in headless Chromium against a real gateway process."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Locator, Page, Request, Route, expect

from gateway.signing.link import sign
from tests.e2e.conftest import (
    PHONE,
    READS_PER_MINUTE,
    SIGNING_SECRET,
    Server,
    expect_on_screen,
    screenshot,
)

pytestmark = pytest.mark.e2e

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
PORTAL_STATUS_QUERY = "{ portal { customer { name } subscriptions { id status } } }"


def link_query(url: str) -> str:
    return urlsplit(url).query


def subscription_row(page: Page, plan: str) -> Any:
    return page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name=plan, exact=True))


def live_message(page: Page, text: str) -> Locator:
    return page.get_by_role("status").filter(has_text=text)


async def expect_message(page: Page, text: str) -> None:
    """The message is on screen for everyone and in exactly one live region (read once)."""
    message = live_message(page, text)
    await expect(message).to_have_count(1)
    await expect(message).to_have_text(text)
    await expect_on_screen(message)


async def seeded_customer(server: Server) -> tuple[dict[str, Any], str]:
    customer = await server.create_customer("Ada Lovelace")
    await server.record_payment(customer, amount="1200", currency="JPY", status="failed",
                                description="Sticker pack")
    await server.record_payment(customer, amount="49.00", currency="USD", status="paid",
                                description="Pro plan, monthly")
    await server.record_payment(customer, amount="0.00120000", currency="BTC", status="pending",
                                description="Top-up")
    await server.record_payment(customer, amount="25.50", currency="EUR", status="refunded",
                                description="Add-on seats")
    await server.create_payment_link(customer, amount="0.05", currency="ETH",
                                      description="Hardware wallet")
    await server.create_subscription(customer, planName="Pro")
    await server.create_subscription(customer, planName="Analytics", amount="120.00",
                                     currency="USDC", interval="year", status="trialing")
    await server.create_subscription(customer, planName="Legacy", amount="5.00", currency="EUR",
                                     status="cancelled")
    return customer, await server.portal_url(customer)


async def test_portal_shows_the_seeded_data(
    any_server: Server, open_page: Callable[..., Any]
) -> None:
    server = any_server
    customer, url = await seeded_customer(server)
    page: Page = await open_page()
    await page.goto(url)

    await expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
    await expect(page.locator("#company-name")).to_have_text("Northwind Hosting")
    await expect(page).to_have_title("Billing · Northwind Hosting")
    account = page.get_by_role("region", name="Account")
    await expect(account.locator("#display-name")).to_have_text("Ada Lovelace")
    await expect(account).to_contain_text(customer["email"])

    history = page.get_by_role("region", name="Payment history")
    rows = history.get_by_role("listitem")
    await expect(rows).to_have_count(4)
    # Newest first; amounts in the currency's decimals, ISO codes through Intl.
    await expect(rows.nth(0)).to_contain_text("Add-on seats")
    await expect(rows.nth(0)).to_contain_text("€25.50")
    await expect(rows.nth(0)).to_contain_text("Refunded")
    await expect(rows.nth(1)).to_contain_text("0.0012 BTC")
    await expect(rows.nth(1)).to_contain_text("Pending")
    await expect(rows.nth(2)).to_contain_text("$49.00")
    today = time.strftime("%b %-d, %Y", time.gmtime())
    await expect(rows.nth(2)).to_contain_text(today)
    await expect(rows.nth(3)).to_contain_text("¥1,200")
    await expect(rows.nth(3)).to_contain_text("Failed")

    links = page.get_by_role("region", name="Open payments")
    await expect(links).to_contain_text("Hardware wallet")
    await expect(links).to_contain_text("0.05 ETH")
    pay = links.get_by_role("link", name=re.compile(r"^Pay 0\.05 ETH for Hardware wallet"))
    href = await pay.get_attribute("href")
    assert href is not None
    assert href.startswith("https://pay.makepay.io/")

    await expect(subscription_row(page, "Pro")).to_contain_text("$49.00 / month")
    await expect(subscription_row(page, "Pro")).to_contain_text("Active")
    await expect(subscription_row(page, "Analytics")).to_contain_text("120.00 USDC / year")
    await expect(subscription_row(page, "Analytics")).to_contain_text("Trial")
    await expect(subscription_row(page, "Legacy")).to_contain_text("Cancelled")
    await screenshot(page, "seeded-desktop")


async def test_only_the_actions_the_state_table_allows(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    expected = {
        "Active plan": ("active", ["Pause", "Cancel"]),
        "Trial plan": ("trialing", ["Cancel"]),
        "Late plan": ("past_due", ["Cancel"]),
        "Unpaid plan": ("unpaid", ["Cancel"]),
        "Paused plan": ("paused", ["Resume", "Cancel"]),
        "Old plan": ("cancelled", []),
    }
    for plan, (status, _) in expected.items():
        await server.create_subscription(customer, planName=plan, status=status)
    page: Page = await open_page()
    await page.goto(await server.portal_url(customer))

    for plan, (_, actions) in expected.items():
        buttons = subscription_row(page, plan).get_by_role("button")
        await expect(buttons).to_have_text([f"{action} {plan}" for action in actions])


async def test_pause_reactivate_and_cancel_a_subscription(
    any_server: Server, open_page: Callable[..., Any]
) -> None:
    server = any_server
    customer = await server.create_customer()
    await server.create_subscription(customer, planName="Pro")
    url = await server.portal_url(customer)
    page: Page = await open_page()
    sent: list[dict[str, Any]] = []

    def record(request: Request) -> None:
        if request.url.endswith("/graphql") and request.method == "POST":
            body = request.post_data_json
            if "Subscription(" in body["query"]:
                sent.append(body["variables"])

    page.on("request", record)
    await page.goto(url)
    row = subscription_row(page, "Pro")

    await row.get_by_role("button", name="Pause Pro").click()
    dialog = page.get_by_role("dialog", name="Pause Pro?")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Pause subscription").click()
    await expect(dialog).to_be_hidden()
    await expect(row).to_contain_text("Paused")
    await expect(row.get_by_role("button")).to_have_text(["Resume Pro", "Cancel Pro"])
    await expect(row.get_by_role("button", name="Resume Pro")).to_be_focused()
    await expect_message(page, "Pro is paused.")

    await row.get_by_role("button", name="Resume Pro").click()
    dialog = page.get_by_role("dialog", name="Resume Pro?")
    await dialog.get_by_role("button", name="Resume subscription").click()
    await expect(row).to_contain_text("Active")
    await expect(row.get_by_role("button")).to_have_text(["Pause Pro", "Cancel Pro"])
    await expect_message(page, "Pro is active again.")

    await row.get_by_role("button", name="Cancel Pro").click()
    dialog = page.get_by_role("dialog", name="Cancel Pro?")
    await dialog.get_by_role("button", name="Cancel subscription").click()
    await expect(row).to_contain_text("Cancelled")
    await expect(row.get_by_role("button")).to_have_count(0)
    await expect(row.get_by_role("heading", name="Pro")).to_be_focused()
    await expect_message(page, "Pro is cancelled.")

    keys = [variables["key"] for variables in sent]
    assert len(keys) == 3
    assert all(UUID_RE.fullmatch(key) for key in keys)
    assert len(set(keys)) == 3
    response = await server.portal(link_query(url), PORTAL_STATUS_QUERY)
    assert [s["status"] for s in response.json()["data"]["portal"]["subscriptions"]] == ["cancelled"]
    await page.reload()
    await expect(subscription_row(page, "Pro")).to_contain_text("Cancelled")


async def test_a_dialog_reopened_at_once_still_answers(
    server: Server, open_page: Callable[..., Any]
) -> None:
    """Closing queues the dialog's close event; reopening before it arrives (a fast
    Escape then Enter) must not leave a dialog whose buttons do nothing."""
    customer = await server.create_customer()
    await server.create_subscription(customer, planName="Pro")
    url = await server.portal_url(customer)
    page: Page = await open_page()
    await page.goto(url)
    cancel = subscription_row(page, "Pro").get_by_role("button", name="Cancel Pro")
    await cancel.click()
    dialog = page.get_by_role("dialog", name="Cancel Pro?")
    await expect(dialog).to_be_visible()

    # Go back and reopen in one task, so the close event comes after the reopening.
    await cancel.evaluate("""(opener) => {
        document.getElementById("confirm-cancel").click();
        opener.click();
    }""")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Keep subscription").click()

    await expect(dialog).to_be_hidden()
    await expect(cancel).to_be_focused()


async def test_going_back_from_the_dialog_changes_nothing(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    await server.create_subscription(customer, planName="Pro")
    url = await server.portal_url(customer)
    page: Page = await open_page()
    await page.goto(url)
    cancel = subscription_row(page, "Pro").get_by_role("button", name="Cancel Pro")

    await cancel.click()
    dialog = page.get_by_role("dialog", name="Cancel Pro?")
    await expect(dialog.get_by_role("button", name="Keep subscription")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(cancel).to_be_focused()

    await page.keyboard.press("Enter")
    keep = dialog.get_by_role("button", name="Keep subscription")
    await expect(keep).to_be_focused()
    await keep.click()
    await expect(dialog).to_be_hidden()
    response = await server.portal(link_query(url), PORTAL_STATUS_QUERY)
    assert [s["status"] for s in response.json()["data"]["portal"]["subscriptions"]] == ["active"]


async def test_an_action_overtaken_elsewhere_shows_the_current_state(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    subscription_id = await server.create_subscription(customer, planName="Pro")
    url = await server.portal_url(customer)
    page: Page = await open_page()
    await page.goto(url)
    row = subscription_row(page, "Pro")
    await expect(row).to_contain_text("Active")

    # Another tab pauses it first.
    response = await server.portal(
        link_query(url),
        "mutation($id: ID!) { pauseSubscription(subscriptionId: $id) { status } }",
        {"id": subscription_id})
    assert response.json()["data"]["pauseSubscription"]["status"] == "paused"

    await row.get_by_role("button", name="Pause Pro").click()
    await page.get_by_role("dialog").get_by_role("button", name="Pause subscription").click()
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await expect(row).to_contain_text("Paused")
    await expect(row.get_by_role("button")).to_have_text(["Resume Pro", "Cancel Pro"])
    await expect_message(page, "Nothing was changed: Pro is already paused.")


async def test_edit_the_display_name(any_server: Server, open_page: Callable[..., Any]) -> None:
    server = any_server
    customer = await server.create_customer("Ada Lovelace")
    url = await server.portal_url(customer)
    page: Page = await open_page()
    await page.goto(url)
    account = page.get_by_role("region", name="Account")

    await account.get_by_role("button", name="Edit display name").click()
    field = account.get_by_label("Display name")
    await expect(field).to_be_focused()
    await field.fill("   ")
    await account.get_by_role("button", name="Save").click()
    await expect(account.get_by_text("Enter a name.")).to_be_visible()
    await expect(field).to_have_attribute("aria-invalid", "true")

    await field.fill("  Ada King  ")
    await account.get_by_role("button", name="Save").click()
    await expect(account.locator("#display-name")).to_have_text("Ada King")
    await expect(account.get_by_role("button", name="Edit display name")).to_be_focused()
    await expect(page.locator("#greeting")).to_contain_text("Hi Ada,")
    await expect_message(page, "Display name saved.")

    response = await server.portal(link_query(url), PORTAL_STATUS_QUERY)
    assert response.json()["data"]["portal"]["customer"]["name"] == "Ada King"
    await page.reload()
    await expect(page.locator("#display-name")).to_have_text("Ada King")


async def test_cancelling_the_name_edit_keeps_the_name(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer("Grace Hopper")
    page: Page = await open_page()
    await page.goto(await server.portal_url(customer))

    await page.get_by_role("button", name="Edit display name").click()
    await page.get_by_label("Display name").fill("Someone else")
    await page.keyboard.press("Escape")
    await expect(page.locator("#display-name")).to_have_text("Grace Hopper")
    await expect(page.get_by_role("button", name="Edit display name")).to_be_focused()


async def test_a_dismissed_message_leaves_nothing_for_the_next_action(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    await server.create_subscription(customer, planName="Pro")
    page: Page = await open_page()
    await page.goto(await server.portal_url(customer))
    row = subscription_row(page, "Pro")
    await row.get_by_role("button", name="Pause Pro").click()
    await page.get_by_role("dialog").get_by_role("button", name="Pause subscription").click()
    await expect_message(page, "Pro is paused.")

    await page.get_by_role("button", name="Dismiss message").click()
    await expect(page.get_by_text("Pro is paused.")).to_have_count(0)
    await expect(page.get_by_role("button", name="Dismiss message")).to_have_count(0)
    await expect(row.get_by_role("button", name="Resume Pro")).to_be_focused()

    await row.get_by_role("button", name="Resume Pro").click()
    await page.get_by_role("dialog").get_by_role("button", name="Resume subscription").click()
    await expect_message(page, "Pro is active again.")
    await expect(page.get_by_text("paused.")).to_have_count(0)


async def test_a_message_fades_after_a_while_but_not_while_pointed_at(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer("Ada Lovelace")
    page: Page = await open_page()
    await page.clock.install()
    await page.goto(await server.portal_url(customer))
    await page.get_by_role("button", name="Edit display name").click()
    await page.get_by_role("button", name="Save").click()
    await expect_message(page, "Display name saved.")

    await live_message(page, "Display name saved.").hover()
    await page.clock.fast_forward("01:00")
    await expect_message(page, "Display name saved.")

    await page.mouse.move(0, 0)
    await page.clock.fast_forward("01:00")
    await expect(page.get_by_text("Display name saved.")).to_have_count(0)
    await expect(page.get_by_role("button", name="Dismiss message")).to_have_count(0)


async def test_the_message_does_not_move_when_motion_is_reduced(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer("Ada Lovelace")
    page: Page = await open_page()
    await page.emulate_media(reduced_motion="reduce")
    await page.goto(await server.portal_url(customer))
    await page.get_by_role("button", name="Edit display name").click()
    transitions = await page.evaluate_handle("""() => {
        const started = [];
        document.addEventListener("transitionrun", (event) => {
            if (event.target.closest("#notice")) started.push(event.propertyName);
        });
        return started;
    }""")
    await page.get_by_role("button", name="Save").click()
    await expect_message(page, "Display name saved.")
    await page.get_by_role("button", name="Dismiss message").click()
    await expect(page.get_by_text("Display name saved.")).to_have_count(0)

    assert await transitions.json_value() == []


async def test_the_message_never_covers_the_focused_control(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    for number in range(1, 9):
        await server.create_subscription(customer, planName=f"Plan {number}")
    page: Page = await open_page(PHONE)
    await page.goto(await server.portal_url(customer))
    row = subscription_row(page, "Plan 1")  # the oldest: the last row
    pause = row.get_by_role("button", name="Pause Plan 1")
    # The button at the very bottom of the viewport, where the message appears.
    await pause.evaluate(
        "(button) => window.scrollBy(0, button.getBoundingClientRect().bottom - innerHeight + 4)")
    await pause.click()
    await page.get_by_role("dialog").get_by_role("button", name="Pause subscription").click()
    await expect_message(page, "Plan 1 is paused.")
    await screenshot(page, "message-pause-phone", full_page=False)

    resume = row.get_by_role("button", name="Resume Plan 1")
    await expect(resume).to_be_focused()
    await expect_on_screen(resume)


async def test_a_failed_action_withdraws_the_previous_message(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer("Ada Lovelace")
    page: Page = await open_page()
    await page.goto(await server.portal_url(customer))
    account = page.get_by_role("region", name="Account")
    await account.get_by_role("button", name="Edit display name").click()
    await account.get_by_label("Display name").fill("Ada King")
    await account.get_by_role("button", name="Save").click()
    await expect_message(page, "Display name saved.")

    await page.route("**/graphql", lambda route: route.abort("internetdisconnected"))
    await account.get_by_role("button", name="Edit display name").click()
    await account.get_by_label("Display name").fill("Ada Byron")
    await account.get_by_role("button", name="Save").click()
    await expect(account.get_by_text("Check your connection and try again.")).to_be_visible()
    await expect(page.get_by_text("Display name saved.")).to_have_count(0)


async def test_load_more_pages_through_payments(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    for number in range(1, 13):
        await server.record_payment(customer, description=f"Order {number}")
    page: Page = await open_page()
    await page.goto(await server.portal_url(customer))
    history = page.get_by_role("region", name="Payment history")
    rows = history.get_by_role("listitem")

    await expect(rows).to_have_count(10)
    await expect(rows.first).to_contain_text("Order 12")
    await expect(rows.last).to_contain_text("Order 3")
    await history.get_by_role("button", name="Load more payments").click()
    await expect(rows).to_have_count(12)
    await expect(rows.nth(10)).to_contain_text("Order 2")
    await expect(rows.nth(11)).to_contain_text("Order 1")
    await expect(rows.nth(10)).to_be_focused()
    await expect(history.get_by_role("button", name="Load more payments")).to_have_count(0)


async def test_empty_lists_say_so(server: Server, open_page: Callable[..., Any]) -> None:
    customer = await server.create_customer()
    page: Page = await open_page()
    await page.goto(await server.portal_url(customer))

    await expect(page.get_by_role("region", name="Subscriptions")).to_contain_text(
        "You have no subscriptions.")
    await expect(page.get_by_role("region", name="Open payments")).to_contain_text(
        "Nothing to pay right now.")
    await expect(page.get_by_role("region", name="Payment history")).to_contain_text(
        "No payments yet.")


async def test_an_expired_link_explains_how_to_get_a_fresh_one(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    expires = int(time.time()) - 60
    signature = sign(SIGNING_SECRET, server.company_id, customer["uid"], expires)
    page: Page = await open_page()
    await page.goto(f"{server.base_url}/billing?company={server.company_id}"
                    f"&customer={customer['uid']}&expires={expires}&signature={signature}")

    heading = page.get_by_role("heading", name="This billing link has expired", level=1)
    await expect(heading).to_be_focused()
    await expect(page.locator("main")).to_contain_text("open billing again: it gives you a fresh link")
    await expect(page.get_by_role("region", name="Account")).to_have_count(0)
    await screenshot(page, "state-expired-desktop")


async def test_a_tampered_link_is_invalid(server: Server, open_page: Callable[..., Any]) -> None:
    customer = await server.create_customer()
    url = await server.portal_url(customer)
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    tampered = url.replace(signature, signature[:-1] + ("0" if signature[-1] != "0" else "1"))
    page: Page = await open_page()
    await page.goto(tampered)

    await expect(page.get_by_role("heading", name="This billing link isn't valid", level=1)).to_be_focused()
    await expect(page.get_by_role("region", name="Account")).to_have_count(0)


async def test_a_link_without_parameters_is_invalid(
    server: Server, open_page: Callable[..., Any]
) -> None:
    page: Page = await open_page()
    await page.goto(f"{server.base_url}/billing")
    await expect(page.get_by_role("heading", name="This billing link isn't valid", level=1)).to_be_visible()


async def test_rate_limited_honours_retry_after(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    url = await server.portal_url(customer)
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        for _ in range(READS_PER_MINUTE):
            response = await client.post("/graphql", json={"query": "{ portal { expiresAt } }"},
                                         headers={"x-makepay-portal": link_query(url)})
        assert response.status_code == 200
    page: Page = await open_page()
    await page.goto(url)

    await expect(page.get_by_role("heading", name="Too many requests", level=1)).to_be_visible()
    retry = page.get_by_role("button", name=re.compile(r"^Try again in \d+s$"))
    await expect(retry).to_be_disabled()
    await expect(page.locator(".countdown")).to_contain_text("You can try again in")


async def test_a_network_failure_offers_a_retry_that_works(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer("Ada Lovelace")
    page: Page = await open_page()
    # The first call to the API fails at the network level; nothing is faked.
    await page.route("**/graphql", lambda route: route.abort("internetdisconnected"))
    await page.goto(await server.portal_url(customer))

    await expect(page.get_by_role("heading", name="Can't reach billing right now")).to_be_focused()
    await page.unroute("**/graphql")
    await page.get_by_role("button", name="Try again").click()
    await expect(page.locator("#display-name")).to_have_text("Ada Lovelace")
    await expect(page.get_by_role("heading", name="Billing", level=1)).to_be_focused()


async def test_the_page_works_at_phone_width(server: Server, open_page: Callable[..., Any]) -> None:
    _, url = await seeded_customer(server)
    page: Page = await open_page(PHONE)
    await page.goto(url)
    await expect(subscription_row(page, "Pro")).to_be_visible()

    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    await subscription_row(page, "Pro").get_by_role("button", name="Pause Pro").click()
    await expect(page.get_by_role("dialog", name="Pause Pro?")).to_be_visible()
    await screenshot(page, "dialog-phone", full_page=False)


async def test_the_server_log_never_holds_the_link(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    url = await server.portal_url(customer)
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    marker = uuid.uuid4().hex
    page: Page = await open_page()
    await page.goto(f"{url}&x={marker}")  # an extra parameter: invalid, but logged if anything is
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await page.goto(url)
    await expect(page.locator("#display-name")).to_be_visible()

    log = server.log()
    assert "GET /billing 200" in log
    assert signature not in log
    assert marker not in log


async def test_retrying_an_action_after_a_network_failure_reuses_its_key(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer()
    await server.create_subscription(customer, planName="Pro")
    url = await server.portal_url(customer)
    page: Page = await open_page()
    await page.goto(url)
    keys: list[str] = []

    async def drop_first_pause(route: Route) -> None:
        body = route.request.post_data_json
        if "pauseSubscription" in body["query"]:
            keys.append(body["variables"]["key"])
            if len(keys) == 1:
                await route.abort("connectionreset")
                return
        await route.continue_()

    await page.route("**/graphql", drop_first_pause)
    row = subscription_row(page, "Pro")
    await row.get_by_role("button", name="Pause Pro").click()
    dialog = page.get_by_role("dialog", name="Pause Pro?")
    await dialog.get_by_role("button", name="Pause subscription").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("Check your connection and try again.")
    await dialog.get_by_role("button", name="Try again").click()
    await expect(dialog).to_be_hidden()
    await expect(row).to_contain_text("Paused")

    assert len(keys) == 2
    assert keys[0] == keys[1]


async def test_loading_state_then_data_with_the_link_sent_verbatim(
    server: Server, open_page: Callable[..., Any]
) -> None:
    customer = await server.create_customer("Ada Lovelace")
    url = await server.portal_url(customer)
    page: Page = await open_page()
    release = asyncio.Event()

    async def hold(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await page.route("**/graphql", hold)
    async with page.expect_request("**/graphql") as sent:
        await page.goto(url)
    request = await sent.value

    await expect(page.get_by_role("status").filter(has_text="Loading your billing details…")).to_be_visible()
    await expect(page.locator("main")).to_have_attribute("aria-busy", "true")
    assert await request.header_value("x-makepay-portal") == link_query(url)
    body = request.post_data_json
    assert "signature" not in body["query"] + str(body["variables"])
    release.set()

    await expect(page.locator("#display-name")).to_have_text("Ada Lovelace")
    await expect(page.locator("main")).to_have_attribute("aria-busy", "false")
