"""Dashboard sign-in limits, after OWASP's guidance on brute force and credential
stuffing: limit per client IP and per (account, IP); per account alone, slow down
rather than lock out.

A lock per account alone lets anyone keep anyone out: ten wrong passwords sent from
ten addresses locked an account for 90 s, renewable with one request per 90 s, and
the owner could not sign in from anywhere. So:

- Per client IP (`RATE_LIMIT_AUTH_FAILURES_PER_MINUTE`, the budget failed API keys
  and forged portal links spend too): past it, the IP's attempts get 429 unchecked.
- Per (account, IP) (`RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT_AND_IP` per 15 minutes):
  each attempt takes one before the password is checked (atomic in the store, so a
  burst of concurrent guesses cannot overrun it) and a success gives the budget
  back. Past it, 429 for that account from that IP only: the owner at another
  address is not affected.
- Per account (`RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT` per 15 minutes): never a 429.
  Past it, every attempt on the account, from any IP and with any password, waits
  `LOGIN_SLOWDOWN_SECONDS` before the password is checked. The owner still gets in,
  a little later; each guess costs an attacker that much more.

What remains: an attacker with many addresses gets the (account, IP) budget per
address (5 guesses per 15 minutes by default, so 20,000 an hour from 1,000
addresses), each slowed down. Against that stand the 12-character minimum and
argon2id, not a lock-out the attacker could turn against the owner.

Unknown emails are counted exactly like accounts, so no answer (429, the delay) says
whether an account exists. Every budget fails open when the store is down, but
sign-in needs the store for its sessions anyway."""

from __future__ import annotations

from gateway.kit.time import Clock
from gateway.rate_limit.limiter import RateLimiter

# Both per-account budgets: a burst of the limit, then one more every 15 min / limit.
LOGIN_FAILURE_PERIOD_SECONDS = 15 * 60


class SignInLimits:
    def __init__(self, limiter: RateLimiter, clock: Clock) -> None:
        self.limiter = limiter
        self.clock = clock
        self.keys = limiter.keys
        self.settings = limiter.settings

    async def before_check(self, email: str, client_ip: str) -> None:
        """Raises RateLimited (per IP, then per account and IP) or returns, after the
        account's slowdown if it is under attack, once the password may be checked."""
        limiter, settings = self.limiter, self.settings
        await limiter.ensure_not_blocked(client_ip)
        await limiter.take(
            "login_account_ip", self.keys.login_failures_from(email, client_ip),
            settings.rate_limit_login_failures_per_account_and_ip, LOGIN_FAILURE_PERIOD_SECONDS,
        )
        account = await limiter.peek(self.keys.login_failures(email),
                                     settings.rate_limit_login_failures_per_account,
                                     LOGIN_FAILURE_PERIOD_SECONDS)
        if account is not None and not account.allowed and settings.login_slowdown_seconds > 0:
            await self.clock.sleep(settings.login_slowdown_seconds)
            # Failures recorded by others meanwhile count: the IP may be past its budget now.
            await limiter.ensure_not_blocked(client_ip)

    async def failed(self, email: str, client_ip: str) -> None:
        await self.limiter.record_auth_failure(client_ip)
        await self.limiter.spend(self.keys.login_failures(email),
                                 self.settings.rate_limit_login_failures_per_account,
                                 LOGIN_FAILURE_PERIOD_SECONDS)

    async def succeeded(self, email: str, client_ip: str) -> None:
        """The owner's own typos from this address are forgiven. The account's count
        is not: it measures attempts from everywhere, and decays by itself."""
        await self.limiter.give_back(self.keys.login_failures_from(email, client_ip))
