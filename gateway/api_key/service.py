from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.api_key.repository import ApiKeyRepository
from gateway.company.repository import CompanyRepository
from gateway.errors import BadRequest, NotFound, Unauthenticated
from gateway.kit.crypto import constant_time_equals, hash_api_secret
from gateway.kit.ids import API_KEY_ID_RE, new_api_key_id, new_api_key_secret
from gateway.kit.time import Clock
from gateway.models import ApiKey

log = logging.getLogger("gateway.api_key")
LAST_USED_RESOLUTION_SECONDS = 60.0
# A well-formed hash no secret maps to: unknown ids still cost one comparison, so
# the response time does not say whether a key id exists.
_DUMMY_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class ApiKeyPrincipal:
    company_id: str
    key_id: str

    @property
    def rate_key(self) -> str:
        return f"key:{self.key_id}"


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    key: ApiKey
    secret: str


@dataclass(slots=True)
class _Cached:
    company_id: str | None  # None: unknown or revoked
    secret_hash: str
    fetched_at: float
    touched_at: float


class ApiKeyService:
    """Creates, revokes and authenticates API keys.

    Lookups are cached in process for `cache_seconds`: the request path hashes the
    presented secret and compares it with the cached hash, with no database
    round trip. A revocation clears the entry at once in the revoking process. The
    others learn of it from the key's revocation mark in the store, which every
    request with a key reads in its existing store round trip (revocation.py), so
    within a second with Redis; without Redis, within `cache_seconds`."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        pepper: str,
        cache_seconds: float = 30.0,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.pepper = pepper
        self.cache_seconds = cache_seconds
        self._cache: dict[str, _Cached] = {}
        self._background: set[asyncio.Task[None]] = set()

    async def create(self, session: AsyncSession, company_id: str, name: str = "") -> CreatedApiKey:
        if await CompanyRepository(session).get(company_id) is None:
            raise NotFound("No such company.")
        if len(name) > 200:
            raise BadRequest("Key name must be at most 200 characters.")
        secret = new_api_key_secret()
        key = ApiKey(
            id=new_api_key_id(),
            company_id=company_id,
            name=name,
            secret_hash=hash_api_secret(self.pepper, secret),
            created_at=self.clock.now(),
        )
        await ApiKeyRepository(session).add(key)
        return CreatedApiKey(key=key, secret=secret)

    async def revoke(self, session: AsyncSession, key_id: str) -> ApiKey:
        key = await ApiKeyRepository(session).get(key_id)
        if key is None:
            raise NotFound("No such API key.")
        if key.revoked_at is None:
            key.revoked_at = self.clock.now()
            await session.flush()
        self._cache.pop(key_id, None)
        return key

    def revoked_elsewhere(self, key_id: str) -> None:
        """The store holds `key_id`'s revocation mark: refuse it from the cache on,
        as a revoked key, until the cache reloads it from the database."""
        entry = self._cache.get(key_id)
        if entry is not None:
            entry.company_id = None

    async def authenticate(self, key_id: str | None, secret: str | None) -> ApiKeyPrincipal:
        if not key_id or not secret or API_KEY_ID_RE.fullmatch(key_id) is None or len(secret) > 200:
            raise Unauthenticated()
        now = self.clock.timestamp()
        entry = self._cache.get(key_id)
        if entry is None or now - entry.fetched_at > self.cache_seconds:
            entry = await self._load(key_id, now)
        return self._check(entry, key_id, secret, now)

    def authenticate_cached(self, key_id: str | None, secret: str | None) -> ApiKeyPrincipal | None:
        """The principal when a fresh cache entry accepts the secret, with no I/O; None
        when `authenticate` must decide (cache miss, stale entry, wrong secret)."""
        if not key_id or not secret or len(secret) > 200:
            return None
        now = self.clock.timestamp()
        entry = self._cache.get(key_id)
        if entry is None or now - entry.fetched_at > self.cache_seconds:
            return None
        try:
            return self._check(entry, key_id, secret, now)
        except Unauthenticated:
            return None

    def _check(self, entry: _Cached, key_id: str, secret: str, now: float) -> ApiKeyPrincipal:
        presented = hash_api_secret(self.pepper, secret)
        if not constant_time_equals(presented, entry.secret_hash) or entry.company_id is None:
            raise Unauthenticated()
        if now - entry.touched_at > LAST_USED_RESOLUTION_SECONDS:
            entry.touched_at = now
            self._touch_later(key_id)
        return ApiKeyPrincipal(company_id=entry.company_id, key_id=key_id)

    async def _load(self, key_id: str, now: float) -> _Cached:
        async with self.session_factory() as session:
            key = await ApiKeyRepository(session).get(key_id)
        if key is None or key.revoked_at is not None:
            entry = _Cached(None, key.secret_hash if key else _DUMMY_HASH, now, now)
        else:
            last = key.last_used_at.timestamp() if key.last_used_at else 0.0
            entry = _Cached(key.company_id, key.secret_hash, now, last)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key_id] = entry
        return entry

    def _touch_later(self, key_id: str) -> None:
        # last_used_at is advisory, minute resolution: written after the response,
        # at most once a minute per key and process, never on the request's path.
        task = asyncio.get_running_loop().create_task(self._touch(key_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _touch(self, key_id: str) -> None:
        try:
            async with self.session_factory() as session:
                await ApiKeyRepository(session).touch(key_id, self.clock.now())
                await session.commit()
        except Exception:
            log.warning("could not record last use of API key %s", key_id, exc_info=True)

    async def drain(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
