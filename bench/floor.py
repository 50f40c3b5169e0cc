"""Scenario 6, the reference floor: the work of createPortalLink written as a bare
Starlette handler with raw asyncpg and redis calls. It is what the stack allows,
not a second implementation of the product: no GraphQL, no ORM, no error mapping.

Same work per request as the gateway: API key checked against an in-process cache
(HMAC-SHA256 of the secret with the pepper, constant-time compare), one GCRA
rate-limit script call in Redis, one indexed customer+company lookup, the link's
HMAC, and the REST body as JSON."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.store.scripts import script_source

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
PEPPER = os.environ.get("API_KEY_PEPPER", "").encode()
SECRET = os.environ.get("PORTAL_SIGNING_SECRETS", "").split(",")[0].encode()
BASE_URL = os.environ.get("PORTAL_BASE_URL", "https://makepay.io")
PREFIX = os.environ.get("REDIS_KEY_PREFIX", "floor")
LIMIT = int(os.environ.get("RATE_LIMIT_LINKS_PER_MINUTE", "120"))

LOOKUP = """
SELECT c.id, c.uid, c.email, c.name, c.client_id, c.metadata::text AS metadata,
       c.created_at, c.updated_at, co.portal_domain, co.portal_domain_verified
FROM customers c JOIN companies co ON co.id = c.company_id
WHERE c.company_id = $1 AND c.uid = $2
"""


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class Floor:
    def __init__(self) -> None:
        self.pool: asyncpg.Pool = None  # set at start-up
        self.redis = Redis.from_url(REDIS_URL)
        self.gcra = self.redis.register_script(script_source("rate"))
        self.keys: dict[str, tuple[str, str]] = {}

    async def key(self, key_id: str) -> tuple[str, str] | None:
        found = self.keys.get(key_id)
        if found is None:
            row = await self.pool.fetchrow(
                "SELECT company_id, secret_hash FROM api_keys WHERE id = $1 AND revoked_at IS NULL",
                key_id)
            if row is None:
                return None
            found = self.keys[key_id] = (row["company_id"], row["secret_hash"])
        return found

    async def handle(self, request: Request) -> Response:
        key_id = request.headers.get("x-makecrypto-key-id", "")
        secret = request.headers.get("x-makecrypto-key-secret", "")
        found = await self.key(key_id)
        presented = hmac.new(PEPPER, secret.encode(), hashlib.sha256).hexdigest()
        if found is None or not hmac.compare_digest(presented, found[1]):
            return Response(b'{"ok":false}', status_code=401)
        company = found[0]
        allowed = await self.gcra(keys=[f"{PREFIX}:{{{company}}}:rl:links:key:{key_id}"],
                                  args=[int(time.time() * 1000), 60000 / LIMIT, 60000, 1])
        if not allowed[0]:
            return Response(b'{"ok":false}', status_code=429)
        row = await self.pool.fetchrow(LOOKUP, company, request.path_params["customer_id"])
        if row is None:
            return Response(b'{"ok":false}', status_code=404)
        expires = int(datetime.now(UTC).timestamp()) + 86400
        message = f"v1\n{company}\n{row['uid']}\n{expires}".encode()
        signature = hmac.new(SECRET, message, hashlib.sha256).hexdigest()
        origin = (f"https://{row['portal_domain']}"
                  if row["portal_domain"] and row["portal_domain_verified"] else BASE_URL)
        body: dict[str, Any] = {
            "ok": True,
            "companyId": company,
            "customer": {
                "id": str(row["id"]), "uid": row["uid"], "email": row["email"],
                "name": row["name"], "clientId": row["client_id"],
                "metadata": orjson.loads(row["metadata"]),
                "createdAt": iso(row["created_at"]), "updatedAt": iso(row["updated_at"]),
                "urls": {"customerPortal": f"{origin}/billing?company={company}&customer="
                                           f"{row['uid']}&expires={expires}&signature={signature}"},
            },
            "expiresAt": iso(datetime.fromtimestamp(expires, UTC)),
        }
        return Response(orjson.dumps(body), media_type="application/json",
                        headers={"Cache-Control": "no-store"})


floor = Floor()


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    floor.pool = await asyncpg.create_pool(DATABASE_URL, min_size=10, max_size=10)
    try:
        yield
    finally:
        await floor.pool.close()
        await floor.redis.aclose()


async def healthz(request: Request) -> Response:
    return Response(b'{"ok":true}', media_type="application/json")


app = Starlette(
    routes=[
        Route("/api/partner/v1/makepay/customers/{customer_id}/portal", floor.handle,
              methods=["POST"]),
        Route("/healthz", healthz),
    ],
    lifespan=lifespan,
)
