"""POST /api/auth/login, POST /api/auth/logout, GET /api/auth/session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from gateway.dashboard.sessions import SESSION_COOKIE
from tests.dashboard.conftest import (
    OWNER,
    PASSWORD,
    Team,
    login,
    portal_route,
    session_cookie,
    sign_in,
)
from tests.factories import create_user


class TestLogin:
    async def test_returns_a_csrf_token_and_sets_the_session_cookie(self, team: Team) -> None:
        response = await login(team.gw)

        assert response.status_code == 200
        body = response.json()
        assert list(body) == ["ok", "csrfToken"]
        assert body["ok"] is True
        assert len(body["csrfToken"]) >= 43
        cookie = session_cookie(response)
        assert len(cookie.value) >= 43
        assert cookie.value != body["csrfToken"]
        assert response.headers["cache-control"] == "no-store"

    async def test_cookie_is_httponly_lax_secure_and_site_wide(self, team: Team) -> None:
        cookie = session_cookie(await login(team.gw))

        assert cookie["httponly"] is True
        assert cookie["samesite"].lower() == "lax"
        assert cookie["secure"] is True  # the test environment is "outside development"
        assert cookie["path"] == "/"
        assert int(cookie["max-age"]) == 12 * 3600

    async def test_cookie_is_not_secure_in_development(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard(environment="development")
        await create_user(gw)

        cookie = session_cookie(await login(gw))

        assert cookie["secure"] == ""
        assert cookie["httponly"] is True

    async def test_email_is_case_insensitive(self, team: Team) -> None:
        response = await login(team.gw, "  Owner@Example.COM ", PASSWORD)

        assert response.status_code == 200

    async def test_unknown_email_and_wrong_password_look_the_same(self, team: Team) -> None:
        wrong_password = await login(team.gw, OWNER, "not the password at all")
        unknown_email = await login(team.gw, "nobody@example.com", PASSWORD)

        assert wrong_password.status_code == unknown_email.status_code == 401
        assert wrong_password.content == unknown_email.content
        assert wrong_password.json() == {
            "ok": False,
            "error": {"code": "UNAUTHENTICATED", "message": "Invalid email or password."},
        }
        assert "set-cookie" not in wrong_password.headers
        assert "set-cookie" not in unknown_email.headers

    async def test_errors_never_echo_the_password(self, team: Team) -> None:
        response = await login(team.gw, OWNER, "hunter2-hunter2-secret")

        assert "hunter2" not in response.text

    @pytest.mark.parametrize(
        "content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
    )
    async def test_only_json_is_accepted(self, team: Team, content_type: str) -> None:
        response = await team.gw.client.post(
            "/api/auth/login", content=f"email={OWNER}&password={PASSWORD}",
            headers={"content-type": content_type})

        assert response.status_code == 415
        assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert "set-cookie" not in response.headers

    @pytest.mark.parametrize("body", [
        b"[]", b'{"email": "owner@example.com"}', b'{"email": 1, "password": "x"}', b"{",
    ])
    async def test_malformed_body_is_a_bad_request(self, team: Team, body: bytes) -> None:
        response = await team.gw.client.post(
            "/api/auth/login", content=body, headers={"content-type": "application/json"})

        assert response.status_code == 400
        assert response.json()["error"]["code"] == "BAD_REQUEST"

    async def test_large_body_is_refused(self, team: Team) -> None:
        response = await login(team.gw, OWNER, "x" * 10_000)

        assert response.status_code == 413
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


class TestSessionFixation:
    async def test_signing_in_again_issues_a_new_id_and_ends_the_old_one(self, team: Team) -> None:
        first = await sign_in(team.gw)

        second = await sign_in(team.gw, headers=first.headers(csrf=None))

        assert second.session_id != first.session_id
        assert second.csrf_token != first.csrf_token
        old = await team.gw.client.get("/api/auth/session", headers=first.headers(csrf=None))
        assert old.status_code == 401
        new = await team.gw.client.get("/api/auth/session", headers=second.headers(csrf=None))
        assert new.status_code == 200

    async def test_an_id_chosen_before_sign_in_is_never_adopted(self, team: Team) -> None:
        planted = "A" * 43

        signed_in = await sign_in(team.gw, headers={"cookie": f"{SESSION_COOKIE}={planted}"})

        assert signed_in.session_id != planted
        response = await team.gw.client.get(
            "/api/auth/session", headers={"cookie": f"{SESSION_COOKIE}={planted}"})
        assert response.status_code == 401


class TestLogout:
    async def test_ends_the_session_and_clears_the_cookie(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.client.post("/api/auth/logout", headers=browser.headers())

        assert response.status_code == 200
        assert response.json() == {"ok": True}
        cleared = session_cookie(response)
        assert cleared.value == ""
        assert int(cleared["max-age"]) == 0
        after = await team.gw.client.post(
            portal_route(team.company.id, team.customer.uid), headers=browser.headers())
        assert after.status_code == 401

    async def test_needs_the_csrf_token_while_the_session_lives(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.client.post("/api/auth/logout", headers=browser.headers(csrf=None))

        assert response.status_code == 403
        assert response.json()["error"]["code"] == "FORBIDDEN"
        still = await team.gw.client.get("/api/auth/session", headers=browser.headers(csrf=None))
        assert still.status_code == 200

    async def test_without_a_session_is_harmless(self, team: Team) -> None:
        response = await team.gw.client.post("/api/auth/logout")

        assert response.status_code == 200


class TestCurrentSession:
    async def test_shows_the_user_their_teams_and_the_csrf_token(self, team: Team) -> None:
        browser = await sign_in(team.gw)

        response = await team.gw.client.get("/api/auth/session", headers=browser.headers(csrf=None))

        assert response.status_code == 200
        body = response.json()
        assert body["user"]["email"] == OWNER
        assert body["teams"] == [{"companyId": team.company.id, "permissions": ["settings.manage"]}]
        assert body["csrfToken"] == browser.csrf_token

    async def test_needs_a_session(self, team: Team) -> None:
        response = await team.gw.client.get("/api/auth/session")

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"


# Sign-ins from addresses behind the test's trusted proxy: each test says which IP.
PROXY = {"trusted_proxies": ["203.0.113.7/32"]}


def from_ip(n: int | str) -> dict[str, str]:
    return {"x-forwarded-for": n if isinstance(n, str) else f"198.51.100.{n}"}


class TestBruteForce:
    """rate_limit/sign_in.py: per IP and per (account, IP) a 429; per account alone a
    slowdown, never a lock-out."""

    async def test_an_attacker_on_many_ips_cannot_lock_the_owner_out(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard(rate_limit_login_failures_per_account=3, **PROXY)
        await create_user(gw)
        for n in range(30):
            failed = await login(gw, OWNER, "wrong password number", headers=from_ip(n))
            assert failed.status_code == 401

        owner = await login(gw, OWNER, PASSWORD, headers=from_ip("192.0.2.10"))

        assert owner.status_code == 200
        assert session_cookie(owner).value

    async def test_past_the_account_budget_every_attempt_is_slowed_down(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard(rate_limit_login_failures_per_account=3,
                                   login_slowdown_seconds=4, **PROXY)
        await create_user(gw)
        for n in range(3):
            await login(gw, OWNER, "wrong password number", headers=from_ip(n))
        assert gw.clock.slept == []  # within the budget: no delay

        owner = await login(gw, OWNER, PASSWORD, headers=from_ip("192.0.2.10"))
        guess = await login(gw, OWNER, "wrong password number", headers=from_ip(50))
        other = await login(gw, "someone.else@example.com", "wrong password", headers=from_ip(51))

        assert (owner.status_code, guess.status_code, other.status_code) == (200, 401, 401)
        assert gw.clock.slept == [4, 4]  # the owner and the guess; not another account

    async def test_unknown_emails_are_slowed_down_the_same_way(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard(rate_limit_login_failures_per_account=2,
                                   login_slowdown_seconds=3, **PROXY)
        for n in range(2):
            assert (await login(gw, "ghost@example.com", PASSWORD,
                                headers=from_ip(n))).status_code == 401

        assert (await login(gw, "ghost@example.com", PASSWORD,
                            headers=from_ip(9))).status_code == 401
        assert gw.clock.slept == [3]

    async def test_failures_per_account_and_ip_are_limited(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard(rate_limit_login_failures_per_account_and_ip=3, **PROXY)
        await create_user(gw)
        for _ in range(3):
            failed = await login(gw, OWNER, "wrong password number", headers=from_ip(1))
            assert failed.status_code == 401

        blocked = await login(gw, OWNER, PASSWORD, headers=from_ip(1))

        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "RATE_LIMITED"
        assert int(blocked.headers["retry-after"]) >= 1
        assert "set-cookie" not in blocked.headers
        # The same account from another address, another account from this one: open.
        assert (await login(gw, OWNER, PASSWORD, headers=from_ip(2))).status_code == 200
        await create_user(gw, "second@example.com", PASSWORD)
        assert (await login(gw, "second@example.com", PASSWORD,
                            headers=from_ip(1))).status_code == 200

    async def test_an_ipv6_client_s_64_block_is_one_address(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard(rate_limit_login_failures_per_account_and_ip=2, **PROXY)
        await create_user(gw)
        for n in range(2):
            failed = await login(gw, OWNER, "wrong password number",
                                 headers=from_ip(f"2001:db8:1:2::{n + 1:x}"))
            assert failed.status_code == 401

        same_block = await login(gw, OWNER, PASSWORD, headers=from_ip("2001:db8:1:2:ffff::9"))
        next_block = await login(gw, OWNER, PASSWORD, headers=from_ip("2001:db8:1:3::1"))

        assert (same_block.status_code, next_block.status_code) == (429, 200)

    async def test_concurrent_guesses_cannot_overrun_the_account_and_ip_budget(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard(rate_limit_login_failures_per_account_and_ip=3,
                                   rate_limit_auth_failures_per_minute=1_000, **PROXY)
        await create_user(gw)

        answers = await asyncio.gather(*(
            login(gw, OWNER, f"wrong password {n:03d}", headers=from_ip(1)) for n in range(12)))

        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [401] * 3 + [429] * 9

    async def test_unknown_emails_are_limited_per_ip_the_same_way(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard(rate_limit_login_failures_per_account_and_ip=2)
        for _ in range(2):
            assert (await login(gw, "ghost@example.com", PASSWORD)).status_code == 401

        assert (await login(gw, "ghost@example.com", PASSWORD)).status_code == 429

    async def test_failures_per_ip_are_limited_across_accounts(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard(rate_limit_auth_failures_per_minute=3)
        await create_user(gw)
        for n in range(3):
            assert (await login(gw, f"guess{n}@example.com", PASSWORD)).status_code == 401

        blocked = await login(gw, OWNER, PASSWORD)

        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1

    async def test_a_successful_sign_in_forgives_that_address_s_failures(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard(rate_limit_login_failures_per_account_and_ip=2)
        await create_user(gw)
        await login(gw, OWNER, "wrong password number")
        assert (await login(gw, OWNER, PASSWORD)).status_code == 200

        await login(gw, OWNER, "wrong password number")

        assert (await login(gw, OWNER, PASSWORD)).status_code == 200


async def test_the_store_holds_neither_the_session_id_nor_its_key(team: Team) -> None:
    gw = team.gw
    browser = await sign_in(gw)
    key = gw.state.keys.session(browser.session_id)

    record = await gw.state.store.get(key)

    assert record is not None
    assert browser.session_id not in key
    assert browser.session_id.encode() not in record


async def test_logs_never_show_passwords_session_ids_or_csrf_tokens(
    team: Team, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await login(team.gw, OWNER, "a wrong password attempt")
    browser = await sign_in(team.gw)
    await team.gw.client.post(portal_route(team.company.id, team.customer.uid),
                              headers=browser.headers(csrf="w" * 43))
    await team.gw.client.post("/api/auth/logout", headers=browser.headers())

    logged = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    assert "gateway.access" in {record.name for record in caplog.records}
    for secret in (PASSWORD, "a wrong password attempt", browser.session_id, browser.csrf_token):
        assert secret not in logged


async def test_without_the_session_store_sign_in_is_unavailable_not_open(
    start_dashboard: Callable[..., Any]
) -> None:
    # Sessions exist only in the store: with it unreachable nobody is signed in,
    # and nobody is let in either.
    gw = await start_dashboard(redis_url="redis://127.0.0.1:1/0")
    await create_user(gw)

    signed_in = await login(gw)
    dashboard = await gw.client.post(portal_route("acct_acme", "cus_" + "0" * 26),
                                     headers={"cookie": "makepay_session=" + "s" * 43,
                                              "x-csrf-token": "c" * 43})

    assert signed_in.status_code == dashboard.status_code == 503
    assert signed_in.json()["error"]["code"] == "UNAVAILABLE"
    assert "set-cookie" not in signed_in.headers
