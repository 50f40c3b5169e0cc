from __future__ import annotations

import logging
import time

from gateway.config import Settings
from gateway.errors import RateLimited
from gateway.keys import Keys
from gateway.metrics import record_rate_limit_rejection
from gateway.redis import RateDecision, Store, StoreUnavailable

log = logging.getLogger("gateway.rate_limit")
_WARN_EVERY_SECONDS = 10.0
# Failed sign-ins per account: a burst of the limit, then one more every
# 15 min / limit. Counted for unknown emails too, so a 429 says nothing about
# whether an account exists.
LOGIN_FAILURE_PERIOD_SECONDS = 15 * 60


class RateLimiter:
    """The gateway's budgets. When the store is down, limits fail open (the request
    goes on) and a warning is logged at most every few seconds."""

    def __init__(self, store: Store, keys: Keys, settings: Settings) -> None:
        self.store = store
        self.keys = keys
        self.settings = settings
        self._last_warning = 0.0

    def _fail_open(self, exc: StoreUnavailable) -> None:
        now = time.monotonic()
        if now - self._last_warning > _WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning("rate limits fail open: store unavailable (%s)", exc)

    async def _hit(self, name: str, key: str, limit: int, *, fail_open: bool = True) -> RateDecision | None:
        try:
            decision = await self.store.rate_hit(key, limit)
        except StoreUnavailable as exc:
            if not fail_open:
                raise
            self._fail_open(exc)
            return None
        if not decision.allowed:
            record_rate_limit_rejection(name)
            raise RateLimited(decision.retry_after, decision.limit)
        return decision

    async def link_creation(self, company_id: str, principal: str) -> RateDecision | None:
        return await self._hit(
            "links",
            self.keys.link_rate(company_id, principal),
            self.settings.rate_limit_links_per_minute,
        )

    async def portal_read(self, company_id: str, customer_uid: str, signature: str) -> RateDecision | None:
        return await self._hit(
            "portal_reads",
            self.keys.portal_rate(company_id, customer_uid, signature, "r"),
            self.settings.rate_limit_portal_reads_per_minute,
        )

    async def portal_write(self, company_id: str, customer_uid: str, signature: str) -> RateDecision | None:
        # Fails closed: portal mutations answer UNAVAILABLE without the store, since
        # their replay protection lives there too.
        return await self._hit(
            "portal_writes",
            self.keys.portal_rate(company_id, customer_uid, signature, "w"),
            self.settings.rate_limit_portal_writes_per_minute,
            fail_open=False,
        )

    async def _refuse_if_spent(self, name: str, key: str, limit: int, period: int) -> None:
        try:
            decision = await self.store.rate_peek(key, limit, period)
        except StoreUnavailable as exc:
            self._fail_open(exc)
            return
        if not decision.allowed:
            record_rate_limit_rejection(name)
            raise RateLimited(decision.retry_after, decision.limit)

    async def _spend(self, key: str, limit: int, period: int) -> None:
        try:
            await self.store.rate_hit(key, limit, period)
        except StoreUnavailable as exc:
            self._fail_open(exc)

    async def ensure_not_blocked(self, client_ip: str) -> None:
        """Past its failure budget an IP's authentication attempts are refused unchecked."""
        await self._refuse_if_spent(
            "auth_failures", self.keys.auth_failures(client_ip),
            self.settings.rate_limit_auth_failures_per_minute, 60,
        )

    async def record_auth_failure(self, client_ip: str) -> None:
        await self._spend(self.keys.auth_failures(client_ip),
                          self.settings.rate_limit_auth_failures_per_minute, 60)

    async def ensure_login_allowed(self, email: str) -> None:
        """Past its failure budget an account's sign-ins are refused unchecked, so a
        correct guess cannot be told apart from a wrong one until the window ends."""
        await self._refuse_if_spent(
            "login_failures", self.keys.login_failures(email),
            self.settings.rate_limit_login_failures_per_account, LOGIN_FAILURE_PERIOD_SECONDS,
        )

    async def record_login_failure(self, email: str) -> None:
        await self._spend(self.keys.login_failures(email),
                          self.settings.rate_limit_login_failures_per_account,
                          LOGIN_FAILURE_PERIOD_SECONDS)

    async def clear_login_failures(self, email: str) -> None:
        try:
            await self.store.delete(self.keys.login_failures(email))
        except StoreUnavailable as exc:
            self._fail_open(exc)
