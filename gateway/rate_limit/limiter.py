from __future__ import annotations

import logging
import time
from enum import StrEnum

from gateway.config import Settings
from gateway.errors import RateLimited
from gateway.keys import Keys
from gateway.metrics import record_rate_limit_rejection
from gateway.store import Budget, Gate, RateDecision, Store, StoreUnavailable

log = logging.getLogger("gateway.rate_limit")
_WARN_EVERY_SECONDS = 10.0


class PortalBudget(StrEnum):
    """A portal link's two budgets: reads (the portal query) and writes (per mutation field)."""

    read = "r"
    write = "w"

    @property
    def metric(self) -> str:
        return "portal_reads" if self is PortalBudget.read else "portal_writes"

    @property
    def fails_open(self) -> bool:
        # Writes fail closed: portal mutations answer UNAVAILABLE without the store,
        # since their replay protection lives there too.
        return self is PortalBudget.read


class RateLimiter:
    """The gateway's budgets. When the store is down, limits fail open (the request
    goes on) and a warning is logged at most every few seconds."""

    def __init__(self, store: Store, keys: Keys, settings: Settings) -> None:
        self.store = store
        self.keys = keys
        self.settings = settings
        self._last_warning = 0.0

    def fail_open(self, exc: StoreUnavailable) -> None:
        now = time.monotonic()
        if now - self._last_warning > _WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning("rate limits fail open: store unavailable (%s)", exc)

    async def _hit(self, name: str, key: str, limit: int, *, fail_open: bool = True,
                   period: int = 60) -> RateDecision | None:
        try:
            decision = await self.store.rate_hit(key, limit, period)
        except StoreUnavailable as exc:
            if not fail_open:
                raise
            self.fail_open(exc)
            return None
        return self.enforce(name, decision)

    @staticmethod
    def enforce(name: str, decision: RateDecision) -> RateDecision:
        if not decision.allowed:
            record_rate_limit_rejection(name)
            raise RateLimited(decision.retry_after, decision.limit)
        return decision

    def link_budget(self, company_id: str, principal: str) -> Budget:
        return Budget(self.keys.link_rate(company_id, principal),
                      self.settings.rate_limit_links_per_minute)

    def auth_failure_budget(self, client_ip: str) -> Budget:
        return Budget(self.keys.auth_failures(client_ip),
                      self.settings.rate_limit_auth_failures_per_minute)

    def portal_budget(self, budget: PortalBudget, company_id: str, customer_uid: str,
                      signature: str) -> Budget:
        return Budget(self.keys.portal_rate(company_id, customer_uid, signature, budget.value),
                      self._portal_limit(budget))

    async def link_creation(self, company_id: str, principal: str) -> RateDecision | None:
        budget = self.link_budget(company_id, principal)
        return await self._hit("links", budget.key, budget.limit)

    async def api_key_checks(
        self, client_ip: str, key_id: str | None, link: tuple[str, str] | None = None
    ) -> tuple[bool, RateDecision | None]:
        """An API key's store checks in one round trip: the IP's failure budget (429
        past it, before the key is looked at), whether any process revoked `key_id`
        (its revocation mark, contract section 12), and with `link` (company,
        principal) one link from that budget, not spent for a revoked key.

        Returns (revoked, the link decision). With the store down: (False, None),
        limits fail open and revocations reach this process with its key cache."""
        gate = Gate(guard=self.auth_failure_budget(client_ip),
                    reads=(self.keys.revoked_api_key(key_id),) if key_id else (),
                    stop_at=0,
                    spend=self.link_budget(*link) if link is not None else None)
        try:
            result = await self.store.gate(gate)
        except StoreUnavailable as exc:
            self.fail_open(exc)
            return False, None
        self.enforce("auth_failures", result.guard)
        revoked = bool(result.values) and result.values[0] is not None
        return revoked, self.enforce("links", result.spent) if result.spent else None

    def _portal_limit(self, budget: PortalBudget) -> int:
        if budget is PortalBudget.read:
            return self.settings.rate_limit_portal_reads_per_minute
        return self.settings.rate_limit_portal_writes_per_minute

    async def portal(self, budget: PortalBudget, company_id: str, customer_uid: str,
                     signature: str) -> RateDecision | None:
        """One more request from a link's budget, for a request's second portal field
        (the first is spent with the link's checks, in portal/gate.py's round trip)."""
        spend = self.portal_budget(budget, company_id, customer_uid, signature)
        return await self._hit(budget.metric, spend.key, spend.limit, fail_open=budget.fails_open)

    async def peek(self, key: str, limit: int, period: int) -> RateDecision | None:
        """Would one more be allowed? Spends nothing; None when the store is down."""
        try:
            return await self.store.rate_peek(key, limit, period)
        except StoreUnavailable as exc:
            self.fail_open(exc)
            return None

    async def _refuse_if_spent(self, name: str, key: str, limit: int, period: int) -> None:
        decision = await self.peek(key, limit, period)
        if decision is not None and not decision.allowed:
            record_rate_limit_rejection(name)
            raise RateLimited(decision.retry_after, decision.limit)

    async def spend(self, key: str, limit: int, period: int) -> None:
        """One from the budget, refused or not: for failures already made."""
        try:
            await self.store.rate_hit(key, limit, period)
        except StoreUnavailable as exc:
            self.fail_open(exc)

    async def take(self, name: str, key: str, limit: int, period: int) -> None:
        """One from the budget, or RateLimited when it is spent (atomic in the store,
        so concurrent callers cannot overrun it)."""
        await self._hit(name, key, limit, period=period)

    async def give_back(self, key: str) -> None:
        """The whole budget back."""
        try:
            await self.store.delete(key)
        except StoreUnavailable as exc:
            self.fail_open(exc)

    async def ensure_not_blocked(self, client_ip: str) -> None:
        """Past its failure budget an IP's authentication attempts are refused unchecked."""
        await self._refuse_if_spent(
            "auth_failures", self.keys.auth_failures(client_ip),
            self.settings.rate_limit_auth_failures_per_minute, 60,
        )

    async def record_auth_failure(self, client_ip: str) -> None:
        await self.spend(self.keys.auth_failures(client_ip),
                         self.settings.rate_limit_auth_failures_per_minute, 60)

    async def count_auth_failure(self, client_ip: str) -> None:
        """ensure_not_blocked and record_auth_failure in one store call, for a failure
        found without I/O: spending is refused exactly when the peek would refuse."""
        await self._hit("auth_failures", self.keys.auth_failures(client_ip),
                        self.settings.rate_limit_auth_failures_per_minute)
