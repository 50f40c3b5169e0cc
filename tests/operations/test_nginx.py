"""Two separate gateway processes behind Debian's nginx (round robin) and one webhook
worker, sharing one PostgreSQL and one Redis: what one replica decides holds on the
other, webhooks go out once whichever replica took the change, and one replica
stopped with SIGTERM under load fails no request."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.operations.processes import GatewayProcess, cli, start_all, worker_process
from tests.services import PrivateNginx, missing_binaries, wait_until
from tests.webhook.support import ids_of, loopback_tls, receiver_thread, verified

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
PORTAL_ACT = """mutation($id: ID!) {{ {action}Subscription(subscriptionId: $id) {{ status }} }}"""
RENAME = 'mutation { updatePortalDisplayName(name: "Ada K") { name } }'
CREATE_ENDPOINT = """mutation($url: String!) { createWebhookEndpoint(input: {url: $url}) {
  secret } }"""
EVENTS = """query { events(first: 100) { edges { node { id source type payload } }
  pageInfo { hasNextPage } } }"""


@dataclass
class Replicas:
    env: dict[str, str]
    gateways: list[GatewayProcess]
    nginx: PrivateNginx
    receiver_tls: ssl.SSLContext  # a webhook receiver's, whose certificate the worker trusts


@pytest.fixture
def replicas(process_env: dict[str, str], launch: Callable[..., GatewayProcess],
             tmp_path: Path) -> Iterator[Replicas]:
    if missing_binaries("nginx") and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    env = {**process_env, "TRUSTED_PROXIES": "127.0.0.1", "SHUTDOWN_DRAIN_SECONDS": "1",
           "RATE_LIMIT_LINKS_PER_MINUTE": "5", "RATE_LIMIT_PORTAL_READS_PER_MINUTE": "100000",
           "WEBHOOK_WORKER": "external"}
    receiver_tls, certificate = loopback_tls(tmp_path)
    # Production settings: endpoints are https://; the receiver is on loopback, which
    # only this worker may reach, trusting the receiver's certificate alone.
    worker_env = env | {"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "WEBHOOK_POLL_SECONDS": "0.2",
                        "SSL_CERT_FILE": str(certificate)}
    gateways = [launch(env, "a"), launch(env, "b")]
    with worker_process(worker_env, tmp_path / "worker.log"):
        start_all(*gateways)
        nginx = PrivateNginx([gateway.port for gateway in gateways])
        try:
            nginx.start()
            yield Replicas(env, gateways, nginx, receiver_tls)
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


def test_what_one_replica_decides_holds_on_the_other(replicas: Replicas) -> None:
    env, nginx = replicas.env, replicas.nginx
    company, headers = merchant(env)
    with httpx.Client(base_url=nginx.url, timeout=10) as client, \
            receiver_thread(tls=replicas.receiver_tls) as recv:
        # Every event from here on goes to one endpoint, made through one replica.
        secret = gql(client, CREATE_ENDPOINT, {"url": recv.url}, headers).json()[
            "data"]["createWebhookEndpoint"]["secret"]
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
        # Portal actions, one after the other: round robin sends them to both replicas.
        for action in ("pause", "reactivate"):
            assert codes(gql(client, PORTAL_ACT.format(action=action),
                             {"id": subscription}, link)) == []
        assert codes(gql(client, RENAME, headers=link)) == []
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

        # Webhooks: the one worker sends each event once, whichever replica wrote it.
        page = gql(client, EVENTS, headers=headers).json()["data"]["events"]
        assert not page["pageInfo"]["hasNextPage"]
        events = {edge["node"]["id"]: edge["node"] for edge in page["edges"]}
        wait_until(lambda: len(recv.requests) >= len(events), "not every event delivered", 60)
        time.sleep(1)  # a second delivery of any would arrive now
        assert Counter(ids_of(recv)) == Counter(events.keys())  # each once, none else
        assert [verified(secret, request) for request in recv.requests] == [
            events[request.headers["webhook-id"]]["payload"] for request in recv.requests]
        portal = [node["type"] for node in events.values() if node["source"] == "portal"]
        assert sorted(portal) == ["customer.updated", "subscription.cancelled",
                                  "subscription.paused", "subscription.reactivated"]


async def test_a_replica_stopped_under_load_fails_no_request(replicas: Replicas) -> None:
    env, (_, b), nginx = replicas.env, replicas.gateways, replicas.nginx
    _, headers = merchant(env)
    # A connection per request: nginx's reload closes its old workers' idle keep-alive
    # connections, and a request a client sends on one just then fails between client
    # and nginx (a read error in about one run in four, whatever the replicas do).
    # Browsers retry such a request; httpx does not. What is tested is the replicas.
    no_keep_alive = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=nginx.url, timeout=20, limits=no_keep_alive) as client:
        created = await client.post("/graphql", json={"query": CREATE_CUSTOMER}, headers=headers)
        customer = created.json()["data"]["createCustomer"]["uid"]
        made = await client.post(f"/api/partner/v1/makepay/customers/{customer}/portal",
                                 headers=headers)
        link = {"x-makepay-portal": made.json()["customer"]["urls"]["customerPortal"].split("?", 1)[1]}
        answers: list[tuple[int, tuple[str, ...]]] = []

        async def read() -> str:
            response = await client.post("/graphql", json={"query": WHO}, headers=link)
            answers.append((response.status_code, tuple(codes(response))))
            return response.headers.get("x-upstream", "")

        stopped = f"127.0.0.1:{b.port}"
        after_exit = 0
        for batch in range(400):  # bounded: the stop takes about the drain's second
            if batch == 3:
                # As an operator stops a replica behind nginx: out of the upstream first
                # (a reload), then SIGTERM once no new request goes to it; requests
                # nginx already sent it are answered while it drains.
                nginx.take_out(b.port)
                for _ in range(200):
                    if stopped not in await asyncio.gather(*(read() for _ in range(6))):
                        break
                else:
                    raise AssertionError("nginx kept sending requests to the replica taken out")
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
