"""Idempotency keys for portal mutations, kept in the shared store for 24 hours.

A key is claimed with SET NX before acting, so of two concurrent requests with one
key exactly one acts; the other waits briefly for the outcome. The outcome (result
or client error) is stored under the key with a fingerprint of the operation and
its arguments: the same call gets the first outcome back without acting again, a
different call with the same key is refused."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from gateway.errors import BadRequest, GatewayError, IdempotencyKeyInProgress, IdempotencyKeyReused
from gateway.store import Store

RECORD_TTL_SECONDS = 86_400
# A claim outlives any request; if the process dies mid-call the key frees itself.
CLAIM_TTL_SECONDS = 60
_WAIT_STEP_SECONDS = 0.05
_WAIT_STEPS = 40
MAX_KEY_LENGTH = 200


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise BadRequest(f"idempotencyKey must be 1-{MAX_KEY_LENGTH} printable ASCII characters.")
    return key


def fingerprint(operation: str, arguments: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps([operation, arguments], option=orjson.OPT_SORT_KEYS)).hexdigest()


class _Replayed(GatewayError):
    def __init__(self, code: str, status: int, message: str, extensions: dict[str, Any]) -> None:
        super().__init__(message, **extensions)
        self.code = code
        self.status = status


def _replay(outcome: dict[str, Any]) -> dict[str, Any]:
    if "error" in outcome:
        error = outcome["error"]
        raise _Replayed(error["code"], error["status"], error["message"], error["extensions"])
    result: dict[str, Any] = outcome["result"]
    return result


async def run_once(
    store: Store,
    key: str,
    print_: str,
    act: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """`act` returns a JSON-able result. Client errors are stored and replayed like
    results; anything else frees the key so that the client may retry."""
    claim = orjson.dumps({"fingerprint": print_, "outcome": None})
    for _ in range(_WAIT_STEPS):
        if await store.set_nx(key, claim, CLAIM_TTL_SECONDS):
            break
        raw = await store.get(key)
        if raw is None:  # the claim expired between the two calls
            continue
        record = orjson.loads(raw)
        if record["fingerprint"] != print_:
            raise IdempotencyKeyReused()
        if record["outcome"] is not None:
            return _replay(record["outcome"])
        await asyncio.sleep(_WAIT_STEP_SECONDS)
    else:
        raise IdempotencyKeyInProgress()

    try:
        result = await act()
    except GatewayError as exc:
        if exc.status >= 500 or exc.status == 429:
            await store.delete(key)
            raise
        outcome: dict[str, Any] = {"error": {"code": exc.code, "status": exc.status,
                                             "message": exc.message, "extensions": exc.extensions}}
        await _finish(store, key, print_, outcome)
        raise
    except BaseException:
        await store.delete(key)
        raise
    await _finish(store, key, print_, {"result": result})
    return result


async def _finish(store: Store, key: str, print_: str, outcome: dict[str, Any]) -> None:
    record = orjson.dumps({"fingerprint": print_, "outcome": outcome})
    await store.set(key, record, RECORD_TTL_SECONDS)
