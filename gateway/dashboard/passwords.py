"""Argon2id password hashing, off the event loop."""

from __future__ import annotations

import asyncio
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.config import Settings
from gateway.errors import BadRequest

MIN_PASSWORD_LENGTH = 12
# Argon2 pre-hashes its input, so length costs little; the cap keeps request
# bodies and the hashing queue small.
MAX_PASSWORD_LENGTH = 1024

# Each hash takes tens of milliseconds and (by default) 64 MiB: a small dedicated
# pool bounds both the CPU and the memory that a burst of sign-ins can claim.
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="argon2")


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    new_hash: str | None = None  # set when the stored hash uses outdated parameters


class Passwords:
    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self._dummy_hash: str | None = None
        self._dummy_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Passwords:
        return _cached(settings.password_hash_time_cost, settings.password_hash_memory_kib,
                       settings.password_hash_parallelism)

    @staticmethod
    def check_policy(password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise BadRequest(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise BadRequest(f"The password is limited to {MAX_PASSWORD_LENGTH} characters.")

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(_POOL, self._hasher.hash, password)

    def _verify_sync(self, stored: str | None, password: str) -> Verification:
        # An unknown account costs the same work, against a hash no password matches,
        # so the response time does not tell whether the email exists. The dummy is
        # made on the first call of either kind, so even that one says nothing.
        with self._dummy_lock:
            if self._dummy_hash is None:
                self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(32))
        try:
            self._hasher.verify(stored or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return Verification(ok=False)
        if stored is None:
            return Verification(ok=False)
        if self._hasher.check_needs_rehash(stored):
            return Verification(ok=True, new_hash=self._hasher.hash(password))
        return Verification(ok=True)

    async def verify(self, stored: str | None, password: str) -> Verification:
        """Check `password` against `stored`; None stands for an unknown account."""
        return await asyncio.get_running_loop().run_in_executor(
            _POOL, self._verify_sync, stored, password
        )


_HASHERS: dict[tuple[int, int, int], Passwords] = {}


def _cached(time_cost: int, memory_kib: int, parallelism: int) -> Passwords:
    key = (time_cost, memory_kib, parallelism)
    if key not in _HASHERS:
        _HASHERS[key] = Passwords(*key)
    return _HASHERS[key]
