"""TeamService, Passwords and SessionService, called as the CLI and the routes call them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.config import Settings
from gateway.dashboard.passwords import Passwords
from gateway.dashboard.repository import MembershipRepository, UserRepository
from gateway.dashboard.service import TeamService
from gateway.dashboard.sessions import SessionService
from gateway.errors import BadRequest, Conflict, Forbidden, NotFound
from tests.dashboard.conftest import CHEAP_HASHING, OWNER, PASSWORD, Team, login
from tests.factories import change_permission, create_user
from tests.support import Gateway

CHEAP = Passwords(time_cost=1, memory_kib=8192, parallelism=1)


class TestCreateUser:
    async def test_stores_an_argon2id_hash_and_a_normalized_email(self, dgw: Gateway) -> None:
        user = await create_user(dgw, "  New.User@Example.COM ", PASSWORD)

        assert user.email == "new.user@example.com"
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash

    async def test_refuses_a_short_password(self, dgw: Gateway) -> None:
        with pytest.raises(BadRequest, match="at least 12"):
            await create_user(dgw, "short@example.com", "elevenchars")

    async def test_refuses_an_invalid_email(self, dgw: Gateway) -> None:
        with pytest.raises(BadRequest):
            await create_user(dgw, "not-an-email", PASSWORD)

    async def test_refuses_a_second_user_with_the_same_email(self, dgw: Gateway) -> None:
        await create_user(dgw, "twice@example.com", PASSWORD)

        with pytest.raises(Conflict):
            await create_user(dgw, "TWICE@example.com", PASSWORD)


async def permissions_of(gw: Gateway, email: str, company_id: str) -> list[str] | None:
    """As stored, read back in a fresh session."""
    async with gw.state.session_factory() as session:
        user = await UserRepository(session).get_by_email(email)
        assert user is not None
        membership = await MembershipRepository(session).get(company_id, user.id)
        return None if membership is None else list(membership.permissions)


class TestGrantAndRevoke:
    async def test_grant_joins_the_team_once(self, team: Team) -> None:
        assert await permissions_of(team.gw, OWNER, team.other.id) is None
        for _ in range(2):
            await change_permission(team.gw, OWNER, team.other, "payments.read", add=True)

        assert await permissions_of(team.gw, OWNER, team.other.id) == ["payments.read"]

    async def test_revoke_keeps_the_membership_and_other_permissions(self, team: Team) -> None:
        await change_permission(team.gw, OWNER, team.company, "payments.read", add=True)

        await change_permission(team.gw, OWNER, team.company, "settings.manage", add=False)

        assert await permissions_of(team.gw, OWNER, team.company.id) == ["payments.read"]
        await change_permission(team.gw, OWNER, team.company, "payments.read", add=False)
        assert await permissions_of(team.gw, OWNER, team.company.id) == []

    @pytest.mark.parametrize(("email", "company", "permission", "error"), [
        (OWNER, "acct_acme", "settings.admin", BadRequest),
        (OWNER, "acct_nosuch", "settings.manage", NotFound),
        ("nobody@example.com", "acct_acme", "settings.manage", NotFound),
    ])
    async def test_grant_validates(
        self, team: Team, email: str, company: str, permission: str, error: type[Exception]
    ) -> None:
        async with team.gw.state.session_factory() as session:
            with pytest.raises(error):
                await TeamService(session, team.gw.clock).grant(email, company, permission)

    async def test_revoke_for_a_non_member_is_not_found(self, team: Team) -> None:
        async with team.gw.state.session_factory() as session:
            with pytest.raises(NotFound):
                await TeamService(session, team.gw.clock).revoke(
                    OWNER, team.other.id, "settings.manage")

    async def test_require_permission(self, team: Team) -> None:
        async with team.gw.state.session_factory() as session:
            user = await UserRepository(session).get_by_email(OWNER)
            assert user is not None
            service = TeamService(session, team.gw.clock)
            await service.require_permission(team.company.id, user.id, "settings.manage")
            with pytest.raises(Forbidden):
                await service.require_permission(team.company.id, user.id, "payments.read")
            with pytest.raises(Forbidden):
                await service.require_permission(team.other.id, user.id, "settings.manage")


class TestPasswords:
    async def test_verifies_the_right_password_only(self) -> None:
        stored = await CHEAP.hash(PASSWORD)

        assert (await CHEAP.verify(stored, PASSWORD)).ok
        assert not (await CHEAP.verify(stored, PASSWORD + "!")).ok

    async def test_an_unknown_account_still_costs_a_real_verification(self) -> None:
        passwords = Passwords(time_cost=1, memory_kib=8192, parallelism=1)

        result = await passwords.verify(None, PASSWORD)

        assert not result.ok
        assert passwords._dummy_hash is not None
        assert passwords._dummy_hash.startswith("$argon2id$v=19$m=8192,t=1,p=1$")

    async def test_a_malformed_stored_hash_fails_closed(self) -> None:
        assert not (await CHEAP.verify("not a hash", PASSWORD)).ok

    async def test_sign_in_upgrades_an_outdated_hash(
        self, start_dashboard: Callable[..., Any]
    ) -> None:
        gw = await start_dashboard()
        await create_user(gw)
        stronger = await start_dashboard(**{**CHEAP_HASHING, "password_hash_time_cost": 2})

        assert (await login(stronger)).status_code == 200

        async with gw.state.session_factory() as session:
            user = await UserRepository(session).get_by_email(OWNER)
        assert user is not None
        assert ",t=2," in user.password_hash
        assert (await login(stronger)).status_code == 200


class TestSessions:
    def service(self, gw: Gateway, idle: int = 1800, absolute: int = 43200) -> SessionService:
        return SessionService(gw.state.store, gw.state.keys, gw.clock, idle, absolute)

    async def test_ids_and_tokens_are_fresh_and_unguessable(self, dgw: Gateway) -> None:
        sessions = self.service(dgw)
        user_id = uuid.uuid4()

        first, second = await sessions.start(user_id), await sessions.start(user_id)

        assert len({first.session_id, second.session_id, first.csrf_token, second.csrf_token}) == 4
        assert len(first.session_id) == 43
        assert first.session_id not in repr(first)
        assert first.csrf_token not in repr(first)

    async def test_a_touch_cannot_revive_an_ended_session(self, dgw: Gateway) -> None:
        sessions = self.service(dgw)
        started = await sessions.start(uuid.uuid4())
        dgw.clock.advance(120)
        key = dgw.state.keys.session(started.session_id)
        assert await dgw.state.store.set_xx(key, started.record(), 60)
        await sessions.end(started.session_id)

        assert not await dgw.state.store.set_xx(key, started.record(), 60)
        assert await sessions.load(started.session_id) is None

    @pytest.mark.parametrize("session_id", [None, "", "short", "x" * 44, "a b" * 15])
    async def test_malformed_ids_are_no_session(self, dgw: Gateway, session_id: str | None) -> None:
        assert await self.service(dgw).load(session_id) is None

    async def test_a_corrupt_record_is_dropped(self, dgw: Gateway) -> None:
        sessions = self.service(dgw)
        started = await sessions.start(uuid.uuid4())
        key = dgw.state.keys.session(started.session_id)
        await dgw.state.store.set(key, b"{not json", 60)

        assert await sessions.load(started.session_id) is None
        assert await dgw.state.store.get(key) is None



class TestSettings:
    def test_the_cookie_is_secure_outside_development(self) -> None:
        assert Settings(environment="test").session_cookie_secure_enabled
        assert not Settings(environment="development").session_cookie_secure_enabled
        assert Settings(environment="development",
                        session_cookie_secure=True).session_cookie_secure_enabled

    def test_production_refuses_an_insecure_cookie(self) -> None:
        with pytest.raises(ValidationError, match="SESSION_COOKIE_SECURE"):
            Settings(environment="production", session_cookie_secure=False,
                     portal_signing_secrets=["p" * 40], api_key_pepper="q" * 40)
