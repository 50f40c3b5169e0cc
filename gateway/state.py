from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.api_key.service import ApiKeyService
from gateway.config import Settings
from gateway.keys import Keys
from gateway.kit.time import Clock
from gateway.rate_limit.limiter import RateLimiter
from gateway.signing.link import PortalLinkSigner
from gateway.store import Store


@dataclass(slots=True)
class State:
    """Everything a request needs that lives as long as the process."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    store: Store
    keys: Keys
    signer: PortalLinkSigner
    limiter: RateLimiter
    api_keys: ApiKeyService
