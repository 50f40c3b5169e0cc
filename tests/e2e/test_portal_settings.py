"""The merchant's portal settings on the page, in headless Chromium: each toggle
changes what the page offers, the cancel dialog with its reasons (390 and 1280 px
wide), the four languages (from the browser's locale, the merchant's default and the
switcher), the expired screen with and without a way to a new link, and the issue's
"done when" from the settings mutation to the webhook; axe-core on each new screen,
screenshots in test-output/."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from gateway.signing.link import sign
from gateway.web.page import ASSETS_DIR
from tests.e2e.conftest import DESKTOP, PHONE, SIGNING_SECRET, Server, screenshot
from tests.e2e.test_accessibility import axe_violations
from tests.operations.processes import worker_process
from tests.webhook.support import Receiver, receiver, verified

pytestmark = pytest.mark.e2e

SETTINGS = """mutation($input: PortalSettingsInput!) {
  updatePortalSettings(input: $input) { pauseEnabled } }"""
WAYS_ON = {"newLinkUrl": "https://www.acme.example/billing",
           "returnUrl": "https://www.acme.example/account"}


def catalogue(locale: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ASSETS_DIR / "i18n" / f"{locale}.json").read_text("utf-8"))
    return loaded


async def merchant_with(server: Server, name: str, **settings: Any) -> Server:
    """A merchant of its own on the shared gateway (settings are per company)."""
    company = server.cli("create-company", "--name", name)
    key = server.cli("create-api-key", "--company", company["id"])
    merchant = dataclasses.replace(server, company_id=company["id"], api_headers={
        "x-makecrypto-key-id": key["keyId"], "x-makecrypto-key-secret": key["secret"]})
    if settings:
        await merchant.merchant(SETTINGS, {"input": settings})
    return merchant


async def open_portal(merchant: Server, open_page: Callable[..., Any], *,
                      viewport: dict[str, int] | None = None, locale: str = "en-US",
                      status: str = "active") -> Page:
    customer = await merchant.create_customer("Ada Lovelace")
    await merchant.create_subscription(customer, planName="Pro", status=status)
    page: Page = await open_page(viewport, locale)
    await page.goto(await merchant.portal_url(customer))
    await expect(page.locator("#display-name")).to_have_text("Ada Lovelace")
    return page


def expired_url(merchant: Server, customer_uid: str) -> str:
    expires = int(time.time()) - 60
    signature = sign(SIGNING_SECRET, merchant.company_id, customer_uid, expires)
    return (f"{merchant.base_url}/billing?company={merchant.company_id}"
            f"&customer={customer_uid}&expires={expires}&signature={signature}")


class TestToggles:
    async def test_pause_is_offered_by_default(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        page = await open_portal(await merchant_with(server, "Pause On"), open_page)
        await expect(page.get_by_role("button", name="Pause Pro")).to_be_visible()
        await expect(page.get_by_role("link", name="Back to Pause On")).to_have_count(0)

    async def test_pause_off_removes_pause_but_never_cancel(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        merchant = await merchant_with(server, "Pause Off", pauseEnabled=False)
        page = await open_portal(merchant, open_page)
        await expect(page.get_by_role("button", name="Cancel Pro")).to_be_visible()
        await expect(page.get_by_role("button", name="Pause Pro")).to_have_count(0)

    async def test_a_paused_subscription_can_still_be_resumed_with_pause_off(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        merchant = await merchant_with(server, "Pause Off Resume", pauseEnabled=False)
        page = await open_portal(merchant, open_page, status="paused")
        await page.get_by_role("button", name="Resume Pro").click()
        await page.get_by_role("dialog").get_by_role("button", name="Resume subscription").click()
        await expect(page.get_by_role("button", name="Cancel Pro")).to_be_focused()
        await expect(page.get_by_role("button", name="Pause Pro")).to_have_count(0)

    async def test_return_url_shows_back_to_the_merchant(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        merchant = await merchant_with(server, "Acme Return", **WAYS_ON)
        page = await open_portal(merchant, open_page)
        back = page.get_by_role("link", name="Back to Acme Return")
        await expect(back).to_have_attribute("href", WAYS_ON["returnUrl"])

    async def test_no_reasons_asks_no_question(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        merchant = await merchant_with(server, "No Reasons", cancellationReasons=[])
        page = await open_portal(merchant, open_page)
        await page.get_by_role("button", name="Cancel Pro").click()
        dialog = page.get_by_role("dialog", name="Cancel Pro?")
        await expect(dialog).to_be_visible()
        await expect(dialog.get_by_role("radio")).to_have_count(0)
        await dialog.get_by_role("button", name="Cancel subscription").click()
        await expect(page.locator("[data-status=cancelled]")).to_have_count(1)


@pytest.mark.parametrize(("label", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
async def test_cancel_at_period_end_with_a_reason_then_keep(
    server: Server, open_page: Callable[..., Any], label: str, viewport: dict[str, int]
) -> None:
    merchant = await merchant_with(server, f"Period End {label}", cancellationMode="AT_PERIOD_END",
                                   cancellationReasons=["too_expensive", "unused", "other"])
    page = await open_portal(merchant, open_page, viewport=viewport)
    await page.get_by_role("button", name="Cancel Pro").click()
    dialog = page.get_by_role("dialog", name="Cancel Pro?")
    group = dialog.get_by_role("group", name="Why are you cancelling?")
    await expect(group.get_by_role("radio")).to_have_count(3)
    await screenshot(page, f"settings-cancel-dialog-{label}", full_page=False)
    assert await axe_violations(page, f"settings-cancel-dialog-{label}") == []

    await group.get_by_role("radio", name="I don't use it enough").check()
    await dialog.get_by_label("Anything else you'd like to tell us? (optional)").fill(
        "Back next season")
    await dialog.get_by_role("button", name="Cancel at period end").click()

    row = page.locator("[data-cancel-at-period-end=true]")
    await expect(row).to_contain_text("Cancels on")
    await expect(row.get_by_role("button", name="Keep subscription Pro")).to_be_focused()
    await expect(row.get_by_role("button", name="Pause Pro")).to_have_count(0)
    await screenshot(page, f"settings-cancels-on-{label}")
    assert await axe_violations(page, f"settings-cancels-on-{label}") == []

    audit = await merchant.merchant("{ auditEvents { edges { node { action details } } } }")
    [entry] = [edge["node"] for edge in audit["auditEvents"]["edges"]]
    assert entry["details"] == {"cancelAtPeriodEnd": True, "reason": "unused",
                                "comment": "Back next season"}

    await row.get_by_role("button", name="Keep subscription Pro").click()
    await page.get_by_role("dialog", name="Keep Pro?").get_by_role(
        "button", name="Keep subscription").click()
    await expect(page.locator("[data-cancel-at-period-end=true]")).to_have_count(0)
    await expect(page.get_by_role("button", name="Pause Pro")).to_be_visible()


class TestLanguages:
    @pytest.mark.parametrize(("browser_locale", "lang"), [
        ("de-DE", "de"), ("fr-FR", "fr"), ("es-ES", "es"), ("en-GB", "en")])
    async def test_the_browsers_language(
        self, server: Server, open_page: Callable[..., Any], browser_locale: str, lang: str
    ) -> None:
        words = catalogue(lang)
        page = await open_portal(server, open_page, locale=browser_locale)
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        await expect(page.get_by_role("heading", level=1)).to_have_text(words["billing"])
        await expect(page.get_by_role("heading", name=words["subs.title"])).to_be_visible()
        await expect(page.locator("#language")).to_have_value(lang)
        await screenshot(page, f"settings-language-{lang}")
        if lang != "en":
            assert await axe_violations(page, f"settings-language-{lang}") == []

    async def test_the_merchants_default_when_the_browser_asks_for_none_the_page_has(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        merchant = await merchant_with(server, "Défaut", defaultLocale="fr")
        page = await open_portal(merchant, open_page, locale="it-IT")
        await expect(page.locator("html")).to_have_attribute("lang", "fr")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Facturation")

    async def test_the_switcher_changes_it_and_the_device_keeps_it(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        page = await open_portal(server, open_page)
        await page.get_by_label("Language").select_option("es")
        await expect(page.locator("html")).to_have_attribute("lang", "es")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Facturación")
        await expect(page.get_by_role("button", name="Cancelar Pro")).to_be_visible()
        await page.reload()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Facturación")
        await expect(page.get_by_label("Idioma")).to_have_value("es")

    async def test_a_german_customer_cancels_at_the_period_end(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        """The issue's walk-through: German browser, a reason, "Cancels on" in German."""
        merchant = await merchant_with(server, "Acme GmbH", cancellationMode="AT_PERIOD_END",
                                       cancellationReasons=["too_expensive", "unused", "other"],
                                       pauseEnabled=False, **WAYS_ON)
        page = await open_portal(merchant, open_page, locale="de-DE")
        await expect(page.get_by_role("link", name="Zurück zu Acme GmbH")).to_be_visible()
        await page.get_by_role("button", name="Kündigen Pro").click()
        dialog = page.get_by_role("dialog", name="Pro kündigen?")
        await dialog.get_by_role("radio", name="Es ist zu teuer").check()
        await dialog.get_by_role("button", name="Zum Laufzeitende kündigen").click()
        await expect(page.locator("[data-cancel-at-period-end=true]")).to_contain_text("Endet am")
        await screenshot(page, "settings-german-cancels-on")

    async def test_a_server_error_is_shown_from_the_catalogue(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        """A comment the server refuses: the dialog shows the catalogue's words for the
        code and field, in the page's language, not the server's English message."""
        page = await open_portal(server, open_page, locale="fr-FR")
        await page.get_by_role("button", name="Résilier Pro").click()
        dialog = page.get_by_role("dialog", name="Résilier Pro ?")
        # U+202E (right-to-left override): the server refuses it; the page lets it through.
        await dialog.get_by_label("Autre chose à nous dire ? (facultatif)").fill("ok\u202etxt")
        await dialog.get_by_role("button", name="Résilier l'abonnement").click()
        await expect(dialog.locator("#confirm-error")).to_have_text(
            catalogue("fr")["error.field.comment"])


DONE_WHEN = {"pauseEnabled": False, "cancellationMode": "AT_PERIOD_END",
             "cancellationReasons": ["too_expensive", "unused", "other"], **WAYS_ON}
WEBHOOK = """mutation($url: String!) { createWebhookEndpoint(input: {url: $url,
  eventTypes: ["subscription.updated", "subscription.cancelled"]}) { secret } }"""


async def delivered(recv: Receiver, count: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while len(recv.requests) < count:
        assert time.monotonic() < deadline, f"{len(recv.requests)} of {count} webhooks came"
        await asyncio.sleep(0.05)


async def test_the_issues_done_when_from_one_mutation_to_the_webhook(
    any_server: Server, open_page: Callable[..., Any], tmp_path: Path
) -> None:
    """Issue #14's "done when", start to end: one mutation sets pause off,
    AT_PERIOD_END, three reasons, a return URL and a new-link URL; a customer with a
    German browser cancels with a reason and sees "Cancels on ..." in German; the
    merchant's webhook (a real receiver on loopback, fed by the real delivery worker:
    inside `gateway serve` on SQLite, a `gateway worker` process on PostgreSQL)
    receives the event with the reason, correctly signed."""
    merchant = await merchant_with(any_server, "Acme GmbH")
    settings = await merchant.merchant(f"""mutation($input: PortalSettingsInput!) {{
      updatePortalSettings(input: $input) {{ {" ".join(DONE_WHEN)} }} }}""",
                                       {"input": DONE_WHEN})
    assert settings["updatePortalSettings"] == DONE_WHEN
    trail = await merchant.merchant("{ settingsChanges { edges { node { actorType "
                                    "changes { field } } } } }")
    [change] = [edge["node"] for edge in trail["settingsChanges"]["edges"]]
    assert change["actorType"] == "API_KEY"
    assert sorted(field["field"] for field in change["changes"]) == sorted(DONE_WHEN)

    async with receiver() as recv:
        secret = (await merchant.merchant(WEBHOOK, {"url": recv.url}))[
            "createWebhookEndpoint"]["secret"]
        on_sqlite = any_server.env["DATABASE_URL"].startswith("sqlite")
        worker = (contextlib.nullcontext() if on_sqlite  # WEBHOOK_WORKER=inline, the default
                  else worker_process(any_server.env, tmp_path / "worker.log"))
        with worker:
            page = await open_portal(merchant, open_page, locale="de-DE")
            await expect(page.locator("html")).to_have_attribute("lang", "de")
            await expect(page.get_by_role("link", name="Zurück zu Acme GmbH")).to_have_attribute(
                "href", DONE_WHEN["returnUrl"])
            await expect(page.get_by_role("button", name="Pausieren Pro")).to_have_count(0)
            await page.get_by_role("button", name="Kündigen Pro").click()
            dialog = page.get_by_role("dialog", name="Pro kündigen?")
            group = dialog.get_by_role("group", name="Warum kündigen Sie?")
            await expect(group.get_by_role("radio")).to_have_count(3)
            await group.get_by_role("radio", name="Es ist zu teuer").check()
            await dialog.get_by_role("button", name="Zum Laufzeitende kündigen").click()

            await delivered(recv, 1)
            [request] = recv.requests
            payload = verified(secret, request)
            ends = datetime.fromisoformat(payload["data"]["object"]["currentPeriodEnd"])
            row = page.locator("[data-cancel-at-period-end=true]")
            await expect(row).to_contain_text(f"Endet am {ends:%d.%m.%Y}")
            await screenshot(page, f"settings-done-when-{'sqlite' if on_sqlite else 'postgres'}")

    assert payload["type"] == "subscription.updated"
    assert payload["source"] == "portal"
    assert payload["companyId"] == merchant.company_id
    assert {name: payload["data"]["object"][name] for name in (
        "status", "cancelAtPeriodEnd", "cancellationReason")} == {
        "status": "active", "cancelAtPeriodEnd": True, "cancellationReason": "too_expensive"}
    assert payload["data"]["previous"]["cancelAtPeriodEnd"] is False


class TestExpiredScreen:
    async def test_with_a_new_link_url_it_offers_one(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        merchant = await merchant_with(server, "Acme New Link", **WAYS_ON)
        customer = await merchant.create_customer()
        page: Page = await open_page(PHONE)
        await page.goto(expired_url(merchant, customer["uid"]))
        await expect(page.get_by_role("heading", name="This billing link has expired")).to_be_visible()
        await expect(page.get_by_role("link", name="Get a new link")).to_have_attribute(
            "href", WAYS_ON["newLinkUrl"])
        await expect(page.get_by_role("link", name="Back to the merchant")).to_have_attribute(
            "href", WAYS_ON["returnUrl"])
        await screenshot(page, "settings-expired-new-link-phone")
        assert await axe_violations(page, "settings-expired-new-link") == []

    async def test_without_one_it_says_where_to_go(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        merchant = await merchant_with(server, "Acme No Link")
        customer = await merchant.create_customer()
        page: Page = await open_page()
        await page.goto(expired_url(merchant, customer["uid"]))
        await expect(page.get_by_role("heading", name="This billing link has expired")).to_be_visible()
        await expect(page.get_by_role("link", name="Get a new link")).to_have_count(0)
        await screenshot(page, "settings-expired-no-link-desktop")

    async def test_in_the_browsers_language(
        self, server: Server, open_page: Callable[..., Any]
    ) -> None:
        merchant = await merchant_with(server, "Acme Expired DE", **WAYS_ON)
        customer = await merchant.create_customer()
        page: Page = await open_page(None, "de-DE")
        await page.goto(expired_url(merchant, customer["uid"]))
        await expect(page.get_by_role("heading", name="Dieser Abrechnungslink ist abgelaufen")).to_be_visible()
        await expect(page.get_by_role("link", name="Neuen Link anfordern")).to_be_visible()
        assert await axe_violations(page, "settings-expired-de") == []
