"""Dashboard sign-in sessions, held server-side in the shared store.

The browser holds only a random session id (256 bits). The store keys the record
by a hash of that id (keys.session), so a copy of the store's keys cannot be
replayed as cookies. A record carries its own issue and last-seen times: they are
checked against the gateway's clock on every read, and the store's TTL only drops
what is dead anyway."""

from __future__ import annotations

import math
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import TypeGuard

import orjson

from gateway.config import Settings
from gateway.keys import Keys
from gateway.kit.time import Clock
from gateway.store import Store

SESSION_COOKIE = "makepay_session"
CSRF_HEADER = "x-csrf-token"
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
# The sliding expiry is written back at most once a minute per session: an idle
# lifetime of minutes does not need a store write on every request. The cost: a
# session may end up to a minute short of its idle lifetime after the last request.
_TOUCH_EVERY_SECONDS = 60.0


def new_token() -> str:
    return secrets.token_urlsafe(32)


def well_formed(token: str | None) -> TypeGuard[str]:
    return token is not None and _TOKEN_RE.fullmatch(token) is not None


@dataclass(frozen=True, slots=True)
class DashboardSession:
    session_id: str = field(repr=False)
    user_id: uuid.UUID
    csrf_token: str = field(repr=False)
    issued_at: float
    last_seen_at: float

    def record(self) -> bytes:
        return orjson.dumps({"u": str(self.user_id), "c": self.csrf_token,
                             "i": self.issued_at, "s": self.last_seen_at})

    @property
    def rate_key(self) -> str:
        return f"user:{self.user_id}"


class SessionService:
    def __init__(self, store: Store, keys: Keys, clock: Clock, idle_seconds: int,
                 absolute_seconds: int) -> None:
        self.store = store
        self.keys = keys
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds

    @classmethod
    def create_for(cls, settings: Settings, store: Store, keys: Keys, clock: Clock) -> SessionService:
        return cls(store, keys, clock, settings.session_idle_minutes * 60,
                   settings.session_absolute_hours * 3600)

    def _ttl(self, session: DashboardSession, now: float) -> int:
        remaining = session.issued_at + self.absolute_seconds - now
        return max(1, math.ceil(min(self.idle_seconds, remaining)))

    async def start(self, user_id: uuid.UUID) -> DashboardSession:
        """A new session with a fresh id: ids are only ever minted here, never taken
        from a request, which rules out session fixation."""
        now = self.clock.timestamp()
        session = DashboardSession(new_token(), user_id, new_token(), now, now)
        await self.store.set(self.keys.session(session.session_id), session.record(),
                             self._ttl(session, now))
        return session

    async def load(self, session_id: str | None) -> DashboardSession | None:
        """The live session for this id, its idle expiry pushed back; None if there
        is none, it is malformed, or it has outlived either lifetime."""
        if not well_formed(session_id):
            return None
        key = self.keys.session(session_id)
        raw = await self.store.get(key)
        if raw is None:
            return None
        try:
            data = orjson.loads(raw)
            session = DashboardSession(session_id, uuid.UUID(data["u"]), data["c"],
                                       float(data["i"]), float(data["s"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            await self.store.delete(key)
            return None
        now = self.clock.timestamp()
        if (now - session.issued_at >= self.absolute_seconds
                or now - session.last_seen_at >= self.idle_seconds):
            await self.store.delete(key)
            return None
        if now - session.last_seen_at >= _TOUCH_EVERY_SECONDS:
            session = DashboardSession(session_id, session.user_id, session.csrf_token,
                                       session.issued_at, now)
            # Only if still there: a touch racing a sign-out must not revive the session.
            if not await self.store.set_xx(key, session.record(), self._ttl(session, now)):
                return None
        return session

    async def end(self, session_id: str | None) -> None:
        if well_formed(session_id):
            await self.store.delete(self.keys.session(session_id))
