from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select

from gateway.models import ApiKey
from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway


async def test_only_a_keyed_hash_of_the_secret_is_stored(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    secret = headers["x-makecrypto-key-secret"]

    async with gw.state.session_factory() as session:
        row = (await session.execute(select(ApiKey))).scalar_one()

    assert row.id == headers["x-makecrypto-key-id"]
    assert row.id.startswith("mk_makepay_")
    assert len(row.id) >= len("mk_makepay_") + 24
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    assert secret not in row.secret_hash
    expected = hmac.new(gw.settings.api_key_pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()
    assert row.secret_hash == expected


async def test_last_use_is_recorded(gw: Gateway) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)

    response = await gw.client.post(f"/api/partner/v1/makepay/customers/{customer.uid}/portal",
                                    headers=headers)
    await gw.state.api_keys.drain()

    assert response.status_code == 200
    async with gw.state.session_factory() as session:
        row = (await session.execute(select(ApiKey))).scalar_one()
    assert row.last_used_at is not None
    assert abs(row.last_used_at.timestamp() - gw.clock.timestamp()) < 60


async def test_keys_are_unique(gw: Gateway) -> None:
    company = await create_company(gw)
    keys = [await create_api_key(gw, company) for _ in range(5)]
    assert len({k["x-makecrypto-key-id"] for k in keys}) == 5
    assert len({k["x-makecrypto-key-secret"] for k in keys}) == 5
