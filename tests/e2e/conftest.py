"""Browser tests: a real gateway process (uvicorn, started through the CLI) on a free
127.0.0.1 port, data written through the merchant API with a real API key, and one
headless Chromium for the whole session.

Each server gets a database of its own (a SQLite file, or a PostgreSQL database
plus a Redis key prefix), so the other tests' truncation never touches it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from playwright.async_api import Browser, ConsoleMessage, Locator, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from gateway import migrate
from gateway.api_key.service import ApiKeyService
from gateway.company.service import CompanyService
from gateway.config import Settings
from gateway.db import create_engine, create_session_factory
from gateway.kit.time import SystemClock
from tests.conftest import RUN_ID
from tests.servers import gateway_process
from tests.services import free_port
from tests.support import temporary_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SIGNING_SECRET = "e2e-portal-signing-secret-0123456789abcdefghij"
API_KEY_PEPPER = "e2e-api-key-pepper-0123456789abcdefghijklmn"
# Low enough that a test can exhaust one link's budget in a moment; high enough
# that no other test comes near it (each test uses links of its own customers).
READS_PER_MINUTE = 25
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
_emails = itertools.count(1)


@dataclass
class Server:
    """A gateway process and the merchant (company + API key) that feeds it."""

    base_url: str
    env: dict[str, str]
    log_path: Path
    company_id: str
    api_headers: dict[str, str]

    def cli(self, *args: str) -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-m", "gateway", *args, "--json"], env=self.env,
                              capture_output=True, check=True, timeout=60)
        result: dict[str, Any] = orjson.loads(done.stdout)
        return result

    async def merchant(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            response = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                         headers=self.api_headers)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def portal(self, link_query: str, query: str,
                     variables: dict[str, Any] | None = None) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            return await client.post("/graphql", json={"query": query, "variables": variables or {}},
                                     headers={"x-makepay-portal": link_query})

    async def create_customer(self, name: str = "Ada Lovelace") -> dict[str, Any]:
        email = f"buyer{next(_emails)}-{uuid.uuid4().hex[:8]}@example.com"
        data = await self.merchant(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id uid email } }",
            {"input": {"email": email, "name": name, "clientId": f"client_{uuid.uuid4().hex[:8]}"}},
        )
        customer: dict[str, Any] = data["createCustomer"]
        return customer

    async def record_payment(self, customer: dict[str, Any], **values: Any) -> None:
        await self.merchant(
            "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { id } }",
            {"input": {"email": customer["email"], "amount": "49.00", "currency": "USD",
                       "status": "paid", **values}},
        )

    async def create_payment_link(self, customer: dict[str, Any], **values: Any) -> None:
        await self.merchant(
            "mutation($input: CreatePaymentLinkInput!) { createPaymentLink(input: $input) { id } }",
            {"input": {"email": customer["email"], "amount": "99.00", "currency": "USD", **values}},
        )

    async def create_subscription(self, customer: dict[str, Any], **values: Any) -> str:
        data = await self.merchant(
            "mutation($input: CreateSubscriptionInput!) { createSubscription(input: $input) { id } }",
            {"input": {"email": customer["email"], "planName": "Pro", "amount": "49.00",
                       "currency": "USD", "interval": "month", **values}},
        )
        subscription_id: str = data["createSubscription"]["id"]
        return subscription_id

    async def portal_url(self, customer: dict[str, Any]) -> str:
        data = await self.merchant(
            "mutation($id: ID!) { createPortalLink(customerId: $id) { customer { urls { customerPortal } } } }",
            {"id": customer["uid"]},
        )
        url: str = data["createPortalLink"]["customer"]["urls"]["customerPortal"]
        return url

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


async def _create_merchant(settings: Settings) -> tuple[str, dict[str, str]]:
    """The company and API key a merchant's backend would hold (through the services,
    as `gateway create-company` and `create-api-key` do)."""
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    clock = SystemClock()
    try:
        async with factory() as session:
            company = await CompanyService(session, clock).create("Northwind Hosting", None)
            api_keys = ApiKeyService(factory, clock, settings.api_key_pepper)
            created = await api_keys.create(session, company.id, "e2e")
            await session.commit()
        await api_keys.drain()
    finally:
        await engine.dispose()
    headers = {"x-makecrypto-key-id": created.key.id, "x-makecrypto-key-secret": created.secret}
    return company.id, headers


@contextlib.asynccontextmanager
async def running_server(workdir: Path, database_url: str,
                         redis_url: str | None) -> AsyncIterator[Server]:
    """Migrates, creates the merchant, then runs `gateway serve` until the block ends."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url or "",
        "REDIS_KEY_PREFIX": f"t{RUN_ID}e2e{port}",
        "PORTAL_SIGNING_SECRETS": SIGNING_SECRET,
        "API_KEY_PEPPER": API_KEY_PEPPER,
        "PORTAL_BASE_URL": base_url,
        "RATE_LIMIT_PORTAL_READS_PER_MINUTE": str(READS_PER_MINUTE),
        "RATE_LIMIT_AUTH_FAILURES_PER_MINUTE": "1000",
        "LOG_LEVEL": "INFO",
    }
    settings = Settings(environment="test", database_url=database_url, redis_url=redis_url,
                        portal_signing_secrets=[SIGNING_SECRET], api_key_pepper=API_KEY_PEPPER)
    await asyncio.to_thread(migrate.upgrade, settings)
    company_id, api_headers = await _create_merchant(settings)
    log_path = workdir / "gateway.log"
    with gateway_process(env, port, log_path) as started_url:
        assert started_url == base_url
        yield Server(base_url=base_url, env={**os.environ, **env}, log_path=log_path,
                     company_id=company_id, api_headers=api_headers)


@pytest.fixture(scope="session")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """The gateway on SQLite with the in-memory store."""
    workdir = tmp_path_factory.mktemp("e2e-sqlite")
    async with running_server(workdir, f"sqlite:///{workdir / 'gateway.db'}", None) as started:
        yield started


@pytest.fixture(scope="session")
async def postgres_server(
    tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str, redis_url: str,
    redis_cleanup: None,
) -> AsyncIterator[Server]:
    """The gateway on PostgreSQL and Redis, as in production."""
    async with (
        temporary_database(postgres_server_url, f"gw_e2e_{RUN_ID}") as url,
        running_server(tmp_path_factory.mktemp("e2e-postgres"), url, redis_url) as started,
    ):
        yield started


@pytest.fixture(params=["sqlite-memory", "postgres-redis"])
def any_server(request: pytest.FixtureRequest) -> Server:
    """For the flows worth running on both backends (writes, idempotency in Redis)."""
    chosen: Server = request.getfixturevalue(
        "server" if request.param == "sqlite-memory" else "postgres_server")
    return chosen


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: scripts/browser installs it")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass
class PageProblems:
    errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[Callable[..., Any]]:
    """New pages in fresh contexts (UTC; en-US unless `locale` says otherwise). Every page is checked at the end for
    uncaught script errors and Content-Security-Policy violations."""
    contexts = []
    problems = PageProblems()

    async def open_page(viewport: dict[str, int] | None = None, locale: str = "en-US") -> Page:
        context = await browser.new_context(viewport=viewport or DESKTOP, locale=locale,
                                            timezone_id="UTC")
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.errors.append(str(error)))

        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                problems.csp.append(message.text)

        page.on("console", on_console)
        return page

    yield open_page
    for context in contexts:
        await context.close()
    assert problems.errors == []
    assert problems.csp == []


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    OUTPUT.mkdir(exist_ok=True)
    await page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=full_page)


EXPECT_TIMEOUT_MS = 5000  # Playwright's own for `expect`

# What a sighted user sees: a box of readable size inside the viewport, opaque and
# unclipped all the way up, and the topmost thing at its centre. A screen-reader-only
# box (1x1 px, clipped) fails; so does one faded out or under a dialog's backdrop.
_ON_SCREEN = """(el) => {
  const box = el.getBoundingClientRect();
  if (box.width < 24 || box.height < 12) return `only ${box.width}x${box.height} px`;
  if (box.left < 0 || box.top < 0 || box.right > innerWidth || box.bottom > innerHeight) {
    return "outside the viewport";
  }
  for (let node = el; node; node = node.parentElement) {
    const style = getComputedStyle(node);
    if (style.opacity !== "1") return `opacity ${style.opacity}`;
    if (style.visibility !== "visible") return `visibility ${style.visibility}`;
    if (style.clip !== "auto" || style.clipPath !== "none") return "clipped";
  }
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return hit && el.contains(hit) ? "" : "covered by another element";
}"""


async def expect_on_screen(locator: Locator) -> None:
    """Waits (as long as `expect` does) until the element is on screen for a sighted
    user, else says why it is not."""
    handle = await locator.element_handle(timeout=EXPECT_TIMEOUT_MS)
    with contextlib.suppress(PlaywrightTimeoutError):
        await locator.page.wait_for_function(f"(el) => ({_ON_SCREEN})(el) === ''", arg=handle,
                                             timeout=EXPECT_TIMEOUT_MS)
    assert await handle.evaluate(_ON_SCREEN) == ""
