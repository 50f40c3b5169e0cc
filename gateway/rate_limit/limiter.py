from __future__ import annotations

import logging
import time

from gateway.config import Settings
from gateway.errors import RateLimited
from gateway.keys import Keys
from gateway.redis import RateDecision, Store, StoreUnavailable

log = logging.getLogger("gateway.rate_limit")
_WARN_EVERY_SECONDS = 10.0


class RateLimiter:
    """The gateway's budgets. When the store is down, limits fail open (the request
    goes on) and a warning is logged at most every few seconds."""

    def __init__(self, store: Store, keys: Keys, settings: Settings) -> None:
        self.store = store
        self.keys = keys
        self.settings = settings
        self._last_warning = 0.0
        self.rejections: dict[str, int] = {}

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
            self.rejections[name] = self.rejections.get(name, 0) + 1
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

    async def ensure_not_blocked(self, client_ip: str) -> None:
        """Past its failure budget an IP's authentication attempts are refused unchecked."""
        await self._auth_failures(client_ip, spend=False)

    async def record_auth_failure(self, client_ip: str) -> None:
        try:
            await self.store.rate_hit(
                self.keys.auth_failures(client_ip), self.settings.rate_limit_auth_failures_per_minute
            )
        except StoreUnavailable as exc:
            self._fail_open(exc)

    async def unblocked_link_creation(
        self, client_ip: str, company_id: str, principal: str
    ) -> RateDecision | None:
        """ensure_not_blocked(client_ip), then link_creation(...), in one store round
        trip: for a key already authenticated from the in-process cache."""
        try:
            peek, hit = await self.store.rate_peek_then_hit(
                self.keys.auth_failures(client_ip), self.settings.rate_limit_auth_failures_per_minute,
                self.keys.link_rate(company_id, principal), self.settings.rate_limit_links_per_minute,
            )
        except StoreUnavailable as exc:
            self._fail_open(exc)
            return None
        for name, decision in (("auth_failures", peek), ("links", hit)):
            if decision is not None and not decision.allowed:
                self.rejections[name] = self.rejections.get(name, 0) + 1
                raise RateLimited(decision.retry_after, decision.limit)
        return hit

    async def record_auth_failure_or_refuse(self, client_ip: str) -> None:
        """record_auth_failure for a caller that skipped ensure_not_blocked: the same
        call tells whether the IP was already past its budget (GCRA does not spend
        when it refuses), and then raises what ensure_not_blocked would have."""
        await self._auth_failures(client_ip, spend=True)

    async def _auth_failures(self, client_ip: str, *, spend: bool) -> None:
        check = self.store.rate_hit if spend else self.store.rate_peek
        try:
            decision = await check(
                self.keys.auth_failures(client_ip), self.settings.rate_limit_auth_failures_per_minute
            )
        except StoreUnavailable as exc:
            self._fail_open(exc)
            return
        if not decision.allowed:
            self.rejections["auth_failures"] = self.rejections.get("auth_failures", 0) + 1
            raise RateLimited(decision.retry_after, decision.limit)
