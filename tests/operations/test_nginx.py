"""Two separate gateway processes behind Debian's nginx (round robin), sharing one
PostgreSQL and one Redis: what one replica decides holds on the other, and one
replica stopped with SIGTERM under load fails no request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.operations.processes import GatewayProcess, cli, start_all
from tests.services import PrivateNginx, missing_binaries

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple 7"
CREATE_CUSTOMER = 'mutation { createCustomer(input: {email: "buyer@example.com"}) { uid } }'
CREATE_SUBSCRIPTION = """mutation { createSubscription(input: {email: "buyer@example.com",
  planName: "Pro", amount: "9.00", currency: "USD", interval: "month"}) { id } }"""
CREATE_LINK = """mutation($c: ID!) { createPortalLink(customerId: $c) {
  customer { urls { customerPortal } } } }"""
REVOKE_LINKS = "mutation($c: ID!) { revokePortalLinks(customerId: $c) { revokedBefore } }"
WHO = "query { portal { customer { uid } } }"
CUSTOMERS = "query { customers(first: 1) { edges { cursor } } }"
CANCEL = """mutation($id: ID!) { cancelSubscription(subscriptionId: $id,
  idempotencyKey: "cancel-1") { status } }"""


@pytest.fixture
def replicas(process_env: dict[str, str], launch: Callable[..., GatewayProcess]
             ) -> Iterator[tuple[dict[str, str], list[GatewayProcess], PrivateNginx]]:
    if missing_binaries("nginx") and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    env = {**process_env, "TRUSTED_PROXIES": "127.0.0.1", "SHUTDOWN_DRAIN_SECONDS": "1",
           "RATE_LIMIT_LINKS_PER_MINUTE": "5", "RATE_LIMIT_PORTAL_READS_PER_MINUTE": "100000"}
    gateways = [launch(env, "a"), launch(env, "b")]
    start_all(*gateways)
    nginx = PrivateNginx([gateway.port for gateway in gateways])
    try:
        nginx.start()
        yield env, gateways, nginx
    finally:
        nginx.cleanup()


def merchant(env: dict[str, str], company: str | None = None) -> tuple[str, dict[str, str]]:
    company = company or str(cli(env, "create-company", "--name", "Acme")["id"])
    key = cli(env, "create-api-key", "--company", company)
    return company, {"x-makecrypto-key-id": str(key["keyId"]),
                     "x-makecrypto-key-secret": str(key["secret"])}


def gql(client: httpx.Client, query: str, variables: dict[str, str] | None = None,
        headers: dict[str, str] | None = None) -> httpx.Response:
    return client.post("/graphql", json={"query": query, "variables": variables or {}},
                       headers=headers or {})


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


def test_what_one_replica_decides_holds_on_the_other(
    replicas: tuple[dict[str, str], list[GatewayProcess], PrivateNginx],
) -> None:
    env, _, nginx = replicas
    company, headers = merchant(env)
    with httpx.Client(base_url=nginx.url, timeout=10) as client:
        customer = gql(client, CREATE_CUSTOMER, headers=headers).json()["data"]["createCustomer"]["uid"]
        subscription = gql(client, CREATE_SUBSCRIPTION, headers=headers).json()[
            "data"]["createSubscription"]["id"]

        # One budget of 5 link creations a minute, whichever replica answers.
        _, limited = merchant(env, company)
        route = f"/api/partner/v1/makepay/customers/{customer}/portal"
        statuses = [client.post(route, headers=limited).status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2

        # An idempotent cancel, sent twice (one to each replica): acted on once.
        url = gql(client, CREATE_LINK, {"c": customer}, headers).json()[
            "data"]["createPortalLink"]["customer"]["urls"]["customerPortal"]
        link = {"x-makepay-portal": url.split("?", 1)[1]}
        cancels = [gql(client, CANCEL, {"id": subscription}, link).json() for _ in range(2)]
        assert cancels == [{"data": {"cancelSubscription": {"status": "cancelled"}}}] * 2

        # Revoked links stop working on both replicas.
        assert [codes(gql(client, WHO, headers=link)) for _ in range(2)] == [[], []]
        assert codes(gql(client, REVOKE_LINKS, {"c": customer}, headers)) == []
        assert [codes(gql(client, WHO, headers=link)) for _ in range(2)] == [
            ["PORTAL_LINK_INVALID"]] * 2

        # A key both replicas have cached, revoked by the command line.
        _, revoked = merchant(env, company)
        assert [codes(gql(client, CUSTOMERS, headers=revoked)) for _ in range(2)] == [[], []]
        cli(env, "revoke-api-key", revoked["x-makecrypto-key-id"])
        deadline = time.monotonic() + 3
        while client.post(route, headers=revoked).status_code != 401:
            assert time.monotonic() < deadline, "the revoked key is still accepted"
        assert [client.post(route, headers=revoked).status_code for _ in range(2)] == [401, 401]

        # A dashboard session made through one replica is good on the other.
        cli(env, "create-user", "--email", "ops@example.com", "--password", PASSWORD)
        cli(env, "grant", "--user", "ops@example.com", "--company", company,
            "--permission", "settings.manage")
        login = client.post("/api/auth/login",
                            json={"email": "ops@example.com", "password": PASSWORD})
        # The cookie is Secure (production; TLS ends before nginx here): sent by hand.
        session = {"x-csrf-token": login.json()["csrfToken"],
                   "cookie": f"makepay_session={login.cookies['makepay_session']}"}
        dashboard = f"/api/dashboard/companies/{company}/makepay/customers/{customer}/portal"
        assert [client.post(dashboard, headers=session).status_code for _ in range(2)] == [200, 200]


async def test_a_replica_stopped_under_load_fails_no_request(
    replicas: tuple[dict[str, str], list[GatewayProcess], PrivateNginx],
) -> None:
    env, (_, b), nginx = replicas
    _, headers = merchant(env)
    async with httpx.AsyncClient(base_url=nginx.url, timeout=20) as client:
        created = await client.post("/graphql", json={"query": CREATE_CUSTOMER}, headers=headers)
        customer = created.json()["data"]["createCustomer"]["uid"]
        made = await client.post(f"/api/partner/v1/makepay/customers/{customer}/portal",
                                 headers=headers)
        link = {"x-makepay-portal": made.json()["customer"]["urls"]["customerPortal"].split("?", 1)[1]}
        answers: list[tuple[int, tuple[str, ...]]] = []

        async def read() -> None:
            response = await client.post("/graphql", json={"query": WHO}, headers=link)
            answers.append((response.status_code, tuple(codes(response))))

        after_exit = 0
        for batch in range(400):  # bounded: the stop takes about the drain's second
            if batch == 3:
                b.terminate()
            await asyncio.gather(*(read() for _ in range(6)))
            if b.exited:
                after_exit += 1
                if after_exit >= 5:
                    break

    assert after_exit >= 5, "the stopped replica did not exit"
    assert b.stopped_cleanly()
    assert answers
    assert set(answers) == {(200, ())}, [a for a in answers if a != (200, ())][:5]
