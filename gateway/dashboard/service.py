from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.company.repository import CompanyRepository
from gateway.dashboard.passwords import MAX_PASSWORD_LENGTH, Passwords
from gateway.dashboard.repository import MembershipRepository, UserRepository
from gateway.dashboard.sessions import DashboardSession, SessionService
from gateway.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthenticated
from gateway.kit import validate
from gateway.kit.ids import is_company_id, new_uuid
from gateway.kit.time import Clock
from gateway.models import Membership, User
from gateway.rate_limit.limiter import RateLimiter
from gateway.rate_limit.sign_in import SignInLimits

log = logging.getLogger("gateway.dashboard")

SETTINGS_MANAGE = "settings.manage"
PERMISSIONS: tuple[str, ...] = (
    SETTINGS_MANAGE,
    "team.manage",
    "customers.read",
    "customers.write",
    "payments.read",
    "payments.write",
    "subscriptions.read",
    "subscriptions.write",
)
INVALID_CREDENTIALS = "Invalid email or password."
MAX_EMAIL_LENGTH = 320


def login_email(value: str) -> str:
    """The email as stored; an address that cannot be valid maps to itself, lowercased,
    and so to no account: its failure looks like any other."""
    try:
        return validate.email(value)
    except BadRequest:
        return value.strip().lower()


def _permission(value: str) -> str:
    if value not in PERMISSIONS:
        raise BadRequest(f"Unknown permission {value!r}; known: {', '.join(PERMISSIONS)}.")
    return value


class TeamService:
    """Users, and their memberships in companies' teams."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.memberships = MembershipRepository(session)
        self.clock = clock

    async def create_user(self, passwords: Passwords, email: str, password: str,
                          name: str | None = None) -> User:
        normalized = validate.email(email)
        if len(normalized) > MAX_EMAIL_LENGTH:
            raise BadRequest(f"The email is limited to {MAX_EMAIL_LENGTH} characters.")
        Passwords.check_policy(password)
        name = (validate.display_text(name, "name", max_length=200) or None) if name else None
        if await self.users.get_by_email(normalized) is not None:
            raise Conflict("A user with this email already exists.")
        user = User(id=new_uuid(), email=normalized, name=name,
                    password_hash=await passwords.hash(password), created_at=self.clock.now())
        try:
            return await self.users.add(user)
        except IntegrityError:
            raise Conflict("A user with this email already exists.") from None

    async def _user_by_email(self, email: str) -> User:
        user = await self.users.get_by_email(login_email(email))
        if user is None:
            raise NotFound("No such user.")
        return user

    async def grant(self, email: str, company_id: str, permission: str) -> Membership:
        """Add a permission, joining the user to the company's team if need be."""
        _permission(permission)
        user = await self._user_by_email(email)
        if not is_company_id(company_id) or await CompanyRepository(self.session).get(company_id) is None:
            raise NotFound("No such company.")
        membership = await self.memberships.get(company_id, user.id, for_update=True)
        if membership is None:
            try:
                return await self.memberships.add(Membership(
                    user_id=user.id, company_id=company_id, permissions=[permission],
                    created_at=self.clock.now()))
            except IntegrityError:  # a concurrent grant created it first
                raise Conflict("The team changed meanwhile; run the command again.") from None
        if permission not in membership.permissions:
            # A new list: the JSON column does not see changes made in place.
            membership.permissions = [*membership.permissions, permission]
            await self.session.flush()
        return membership

    async def revoke(self, email: str, company_id: str, permission: str) -> Membership:
        """Remove a permission; the user stays on the team, possibly with none."""
        _permission(permission)
        user = await self._user_by_email(email)
        membership = await self.memberships.get(company_id, user.id, for_update=True)
        if membership is None:
            raise NotFound("This user is not on that company's team.")
        if permission in membership.permissions:
            membership.permissions = [p for p in membership.permissions if p != permission]
            await self.session.flush()
        return membership

    async def require_permission(self, company_id: str, user_id: uuid.UUID, permission: str) -> None:
        """Read from the database on every request, so a revocation applies at once.
        A company that does not exist is refused like one the user is not in."""
        if not is_company_id(company_id):
            raise BadRequest("companyId must be acct_ followed by 1-64 of A-Z, a-z, 0-9, _.")
        membership = await self.memberships.get(company_id, user_id)
        if membership is None or permission not in membership.permissions:
            raise Forbidden(f"You need {permission} on this company.")


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    session: DashboardSession


class SignInService:
    def __init__(self, session: AsyncSession, passwords: Passwords, sessions: SessionService,
                 limiter: RateLimiter, clock: Clock) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.passwords = passwords
        self.sessions = sessions
        self.limits = SignInLimits(limiter, clock)

    async def sign_in(self, email: str, password: str, client_ip: str,
                      previous_session_id: str | None = None) -> SignedIn:
        """Check the credentials and start a new session.

        Every failure (unknown email, wrong password) is the same error after the
        same work, and counts against the client IP, the account from that IP and
        the account (rate_limit/sign_in.py: the last slows down, never refuses)."""
        if len(email) > MAX_EMAIL_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
            raise BadRequest("The email or the password is too long.")
        if validate.NUL in email:  # the one text of the body that reaches a statement
            raise validate.nul_refusal("The email")
        email = login_email(email)
        await self.limits.before_check(email, client_ip)
        user = await self.users.get_by_email(email)
        result = await self.passwords.verify(user.password_hash if user else None, password)
        if user is None or not result.ok:
            await self.limits.failed(email, client_ip)
            # The user id only: an email typed into the form may be a password.
            log.info("sign-in failed from %s (user %s)", client_ip, user.id if user else "unknown")
            raise Unauthenticated(INVALID_CREDENTIALS)
        if result.new_hash is not None:
            await self.users.set_password_hash(user.id, result.new_hash)
            await self.session.commit()
        await self.limits.succeeded(email, client_ip)
        # Whatever session the browser had before is ended, never carried over.
        await self.sessions.end(previous_session_id)
        signed_in = SignedIn(user, await self.sessions.start(user.id))
        log.info("user %s signed in from %s", user.id, client_ip)
        return signed_in
