"""A revoked key's mark in the store, so that every process refuses the key within
a second (contract section 12), not only when its key cache next reloads it.

The mark is written after the revocation is committed: a process that sees it
and reloads the key from the database finds it revoked. Requests read it in the
store round trip they make anyway (RateLimiter.api_key_checks: the IP's failure
budget, and for createPortalLink the link budget), so it costs no round trip.
Without the store (no Redis, or Redis down when the key is revoked) the other
processes refuse the key once their cache entry expires (API_KEY_CACHE_SECONDS)."""

from __future__ import annotations

import logging

from gateway.keys import Keys
from gateway.kit.ids import API_KEY_ID_RE
from gateway.models import ApiKey
from gateway.store import Store, StoreUnavailable

log = logging.getLogger("gateway.api_key")
# Longer than any process keeps a key in its cache (API_KEY_CACHE_SECONDS is at
# most an hour): by the time the mark expires, every cache has reloaded the key.
REVOCATION_MARK_SECONDS = 24 * 3600


async def publish_revocation(store: Store, keys: Keys, key: ApiKey) -> bool:
    """Marks a committed revocation for every process; False if the store could not
    be reached (then the key cache's bound applies)."""
    revoked_at = int(key.revoked_at.timestamp()) if key.revoked_at else 0
    try:
        await store.raise_to(keys.revoked_api_key(key.id), revoked_at, REVOCATION_MARK_SECONDS)
    except StoreUnavailable:
        log.warning("API key %s revoked; its revocation mark could not be written "
                    "(store unavailable)", key.id)
        return False
    return True


def checkable_key_id(key_id: str | None) -> str | None:
    """A presented key id worth looking up a mark for (well formed), else None."""
    return key_id if key_id and API_KEY_ID_RE.fullmatch(key_id) else None
