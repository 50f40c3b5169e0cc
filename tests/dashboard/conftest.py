"""Dashboard fixtures: a gateway with cheap (but real) argon2 parameters, and sign-in
through the real route, with cookies passed by hand so every test says which
session it presents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest

from gateway.models import Company, Customer
from tests.factories import create_company, create_customer, create_user
from tests.support import Gateway

# Argon2id with 8 MiB and one pass: the same code path as production, a fraction
# of the time.
CHEAP_HASHING: dict[str, Any] = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 8192,
    "password_hash_parallelism": 1,
}
PASSWORD = "correct horse battery staple"
OWNER = "owner@example.com"


@dataclass
class Browser:
    """What a browser holds after signing in."""

    session_id: str
    csrf_token: str

    def headers(self, *, csrf: str | None = "") -> dict[str, str]:
        """The cookie, plus the CSRF header (the right one by default; None for none)."""
        headers = {"cookie": f"makepay_session={self.session_id}"}
        if csrf is not None:
            headers["x-csrf-token"] = csrf or self.csrf_token
        return headers


def session_cookie(response: httpx.Response) -> Any:
    cookies: list[Any] = []
    for header in response.headers.get_list("set-cookie"):
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        if "makepay_session" in parsed:
            cookies.append(parsed["makepay_session"])
    assert len(cookies) == 1, response.headers.get_list("set-cookie")
    return cookies[0]


async def login(gw: Gateway, email: str = OWNER, password: str = PASSWORD,
                headers: dict[str, str] | None = None) -> httpx.Response:
    response = await gw.client.post("/api/auth/login", json={"email": email, "password": password},
                                    headers=headers or {})
    gw.client.cookies.clear()  # tests present cookies explicitly
    return response


async def sign_in(gw: Gateway, email: str = OWNER, password: str = PASSWORD,
                  headers: dict[str, str] | None = None) -> Browser:
    response = await login(gw, email, password, headers)
    assert response.status_code == 200, response.text
    return Browser(session_cookie(response).value, response.json()["csrfToken"])


def portal_route(company_id: str, customer_id: str) -> str:
    return f"/api/dashboard/companies/{company_id}/makepay/customers/{customer_id}/portal"


@dataclass
class Team:
    """Two companies, a customer in each, and the signed-in owner of the first."""

    gw: Gateway
    company: Company
    other: Company
    customer: Customer
    other_customer: Customer


@pytest.fixture
def start_dashboard(start_gateway: Callable[..., Any]) -> Callable[..., Any]:
    async def start(**overrides: Any) -> Gateway:
        gateway: Gateway = await start_gateway(**{**CHEAP_HASHING, **overrides})
        return gateway

    return start


@pytest.fixture
async def dgw(start_dashboard: Callable[..., Any]) -> Gateway:
    gateway: Gateway = await start_dashboard()
    return gateway


@pytest.fixture
async def team(dgw: Gateway) -> Team:
    company = await create_company(dgw, "Acme", "acct_acme")
    other = await create_company(dgw, "Globex", "acct_globex")
    customer = await create_customer(dgw, company)
    other_customer = await create_customer(dgw, other, email="someone@globex.example")
    await create_user(dgw, OWNER, PASSWORD, grants={company.id: ["settings.manage"]})
    return Team(dgw, company, other, customer, other_customer)

