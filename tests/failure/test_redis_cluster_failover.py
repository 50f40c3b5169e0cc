"""A Redis Cluster primary killed under load: its replica is promoted and the
gateway finds it by itself, giving no wrong answer meanwhile (limits may fail
open, as with a single Redis that is away). The store's other behaviour on a
Cluster is covered by the store tests, which also run on a Cluster."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gateway.store import ClusterStore, StoreUnavailable
from tests.factories import create_api_key, create_company, create_customer
from tests.portal.conftest import Tenant, link_header
from tests.services import (
    PrivateRedis,
    PrivateRedisCluster,
    free_port,
    running_cluster,
    wait_until,
)
from tests.support import Gateway, error_codes

CREATE = "mutation($c: ID!) { createPortalLink(customerId: $c) { expiresAt } }"
REVOKE = "mutation($c: ID!) { revokePortalLinks(customerId: $c) { revokedBefore } }"
WHO = "query { portal { customer { uid } } }"
RECOVERY_SECONDS = 10.0  # the bound this test holds the gateway to
LOAD_SECONDS = 25.0  # the loop's own bound, past which the test fails anyway


@pytest.fixture
def cluster() -> Iterator[PrivateRedisCluster]:
    with running_cluster() as servers:
        yield servers


def replicated(cluster: PrivateRedisCluster, primary: PrivateRedis) -> bool:
    """The primary's replica has every write the primary has."""
    info = cluster.info(primary, "info", "replication")
    master = re.search(r"master_repl_offset:(\d+)", info)
    replica = re.search(r"slave0:.*offset=(\d+)", info)
    return bool(master and replica and master.group(1) == replica.group(1))


@pytest.mark.parametrize("backend", [("postgres", "redis")], indirect=True)
async def test_a_killed_primary_is_replaced_without_a_wrong_answer(
    start_gateway: Callable[..., Any], cluster: PrivateRedisCluster
) -> None:
    gw: Gateway = await start_gateway(redis_url=cluster.url, redis_cluster=True,
                                      rate_limit_links_per_minute=3)
    company = await create_company(gw)
    api_key = await create_api_key(gw, company)
    kept, revoked = await create_customer(gw, company), await create_customer(gw, company)
    good = Tenant(gw, company, kept, api_key, link_header(gw, company.id, kept.uid))
    bad = Tenant(gw, company, revoked, api_key, link_header(gw, company.id, revoked.uid))
    assert error_codes(await good.portal(WHO)) == []  # verified, and cached in Redis
    assert error_codes(await bad.portal(WHO)) == []
    assert "errors" not in (await gw.gql(REVOKE, {"c": revoked.uid}, api_key)).json()
    links = [(await gw.gql(CREATE, {"c": kept.uid}, api_key)).status_code for _ in range(4)]
    assert links == [200, 200, 200, 429]  # the key's budget holds on the Cluster

    # The company's keys share one slot: kill the primary that serves it.
    primary = cluster.primary_of(gw.state.keys.revocation(company.id, revoked.uid))
    wait_until(lambda: replicated(cluster, primary), "the replica did not catch up")
    primary.kill()
    killed_at = asyncio.get_running_loop().time()

    recovered_after = None
    while recovered_after is None:
        elapsed = asyncio.get_running_loop().time() - killed_at
        assert elapsed < LOAD_SECONDS, "the gateway did not recover"
        # No wrong answer at any moment: the kept link works, the revoked one never.
        kept_answer, revoked_answer = await good.portal(WHO), await bad.portal(WHO)
        assert error_codes(kept_answer) == [], kept_answer
        assert kept_answer["data"]["portal"]["customer"]["uid"] == kept.uid
        assert error_codes(revoked_answer) == ["PORTAL_LINK_INVALID"], revoked_answer
        created = await gw.gql(CREATE, {"c": kept.uid}, api_key)
        assert created.status_code in (200, 429), created.text
        if created.status_code == 429:  # the key's budget is enforced again
            recovered_after = elapsed
        await asyncio.sleep(0.05)

    assert recovered_after < RECOVERY_SECONDS
    wait_until(cluster.healthy, "the cluster did not report ok again")


async def test_a_cluster_that_cannot_be_reached_is_unavailable_not_an_error() -> None:
    """No node answers (the layout cannot even be learnt): limits fail open as with a
    single Redis that is away, and readiness reports it."""
    store = ClusterStore(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(StoreUnavailable):
            await store.rate_hit("anything", 5)
        await asyncio.sleep(store.cooldown)  # past the breaker: the next call probes
        assert not await store.ping()
    finally:
        await store.close()
