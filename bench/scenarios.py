"""What each scenario sends and what a correct answer looks like.

Every scenario has a wrk spec (cheap per-response checks in Lua: status, a marker
that only a correct body holds, no "errors") and a verification pass over httpx
run before and after each wrk run that parses the body and checks it in full."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from bench import dataset
from bench.dataset import Size
from gateway.signing.link import PortalLinkSigner

LINK_FIELDS = ("companyId expiresAt customer { id uid email name clientId metadata "
               "createdAt updatedAt urls { customerPortal } }")
CREATE_LINK = f"mutation Link($customerId: ID!) {{ createPortalLink(customerId: $customerId) {{ {LINK_FIELDS} }} }}"
PORTAL = """query Portal {
  portal {
    expiresAt
    company { id name }
    customer { id uid name email clientId createdAt }
    payments(first: 20) {
      edges { cursor node { id amount currency status description createdAt } }
      pageInfo { hasNextPage endCursor }
    }
    paymentLinks { id url amount currency status description expiresAt }
    subscriptions { id status planName amount currency interval currentPeriodEnd }
  }
}"""
SUBSCRIPTION_ACTION = ("mutation Act($id: ID!, $key: String) {{ {action}(subscriptionId: $id, "
                       "idempotencyKey: $key) {{ id status }} }}")
ACTIONS = ("pauseSubscription", "reactivateSubscription")
ROTATION = 1_000  # distinct customers the merchant scenarios cycle through
MERCHANTS = 100  # distinct companies (API keys) among them


class VerifyError(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise VerifyError(message)


def _json(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise VerifyError(f"not JSON: {response.status_code} {response.text[:200]}") from None


def key_headers(size: Size, n: int) -> dict[str, str]:
    company = (n - 1) % size.companies
    return {"x-makecrypto-key-id": dataset.key_id(company),
            "x-makecrypto-key-secret": dataset.key_secret(company)}


def graphql_body(query: str, variables: dict[str, Any] | None = None) -> str:
    return orjson.dumps({"query": query, "variables": variables or {}}).decode()


@dataclass
class Context:
    size: Size
    signer: PortalLinkSigner

    def merchants(self) -> list[int]:
        """ROTATION customers spread over MERCHANTS companies (so over that many API
        keys): the steady state of merchants that call often, whose keys the gateway's
        in-process cache holds. With a key per request the run would measure the
        cache's cold misses instead."""
        companies = min(MERCHANTS, self.size.companies)
        found = [c + 1 + self.size.companies * j
                 for j in range(ROTATION // companies) for c in range(companies)]
        return [n for n in found if n <= self.size.customers]


def check_link(ctx: Context, link: dict[str, Any], n: int) -> None:
    customer = link["customer"]
    check(link["companyId"] == dataset.customer_company(ctx.size, n), "wrong company")
    check(customer["uid"] == dataset.customer_uid(n), "wrong customer")
    check(customer["id"] == str(dataset.det_uuid("c", n)), "wrong customer id")
    check(customer["email"] == f"c{n}@bench.example", "wrong email")
    url = urlsplit(customer["urls"]["customerPortal"])
    check(url.path == "/billing", "wrong portal path")
    verified = ctx.signer.verify(url.query)  # raises on a bad signature
    check(verified.customer_uid == customer["uid"], "link signed for another customer")


# --- scenario 1: createPortalLink over GraphQL ----------------------------------

def link_graphql_spec(ctx: Context) -> dict[str, Any]:
    return {
        "method": "POST", "expect_status": 200, "expect": '"customerPortal":"https://',
        "reject": '"errors"',
        "requests": [{"path": "/graphql",
                      "headers": {**key_headers(ctx.size, n), "content-type": "application/json"},
                      "body": graphql_body(CREATE_LINK, {"customerId": dataset.customer_uid(n)})}
                     for n in ctx.merchants()],
    }


def link_graphql_verify(ctx: Context, client: httpx.Client, n: int) -> None:
    response = client.post("/graphql", headers=key_headers(ctx.size, n),
                           json={"query": CREATE_LINK,
                                 "variables": {"customerId": dataset.customer_uid(n)}})
    body = _json(response)
    check(response.status_code == 200 and "errors" not in body, f"createPortalLink: {body}")
    check_link(ctx, body["data"]["createPortalLink"], n)


# --- scenarios 2 and 6: the REST partner route (gateway and floor) ---------------

def rest_path(n: int) -> str:
    return f"/api/partner/v1/makepay/customers/{dataset.customer_uid(n)}/portal"


def link_rest_spec(ctx: Context) -> dict[str, Any]:
    return {
        "method": "POST", "expect_status": 200, "expect": '"customerPortal":"https://',
        "reject": '"ok":false',
        "requests": [{"path": rest_path(n), "headers": key_headers(ctx.size, n), "body": ""}
                     for n in ctx.merchants()],
    }


def link_rest_verify(ctx: Context, client: httpx.Client, n: int) -> None:
    response = client.post(rest_path(n), headers=key_headers(ctx.size, n))
    body = _json(response)
    check(response.status_code == 200 and body.get("ok") is True, f"partner route: {body}")
    check(list(body) == ["ok", "companyId", "customer", "expiresAt"], "wrong shape")
    check_link(ctx, body, n)


# --- scenario 3 (and 7): the portal page's data query ----------------------------

def hot(ctx: Context) -> list[int]:
    return list(range(1, ctx.size.hot_customers + 1))


def portal_headers(ctx: Context, n: int) -> dict[str, str]:
    return {"x-makepay-portal": dataset.portal_query(ctx.signer, ctx.size, n),
            "content-type": "application/json"}


def portal_spec(ctx: Context) -> dict[str, Any]:
    return {
        "method": "POST", "expect_status": 200, "expect": '"portal":{', "reject": '"errors"',
        "requests": [{"path": "/graphql", "headers": portal_headers(ctx, n),
                      "body": graphql_body(PORTAL)} for n in hot(ctx)],
    }


def portal_verify(ctx: Context, client: httpx.Client, n: int) -> None:
    response = client.post("/graphql", headers=portal_headers(ctx, n),
                           json={"query": PORTAL})
    body = _json(response)
    check(response.status_code == 200 and "errors" not in body, f"portal: {body}")
    portal = body["data"]["portal"]
    check(portal["customer"]["uid"] == dataset.customer_uid(n), "portal of another customer")
    check(portal["company"]["id"] == dataset.customer_company(ctx.size, n), "wrong company")
    edges = portal["payments"]["edges"]
    check(len(edges) == 20 and portal["payments"]["pageInfo"]["hasNextPage"], "payments page")
    stamps = [e["node"]["createdAt"] for e in edges]
    check(stamps == sorted(stamps, reverse=True), "payments not newest first")
    check(len(portal["subscriptions"]) >= 1, "no subscriptions")
    check(all(link["status"] in ("active", "unpaid") for link in portal["paymentLinks"]),
          "closed payment link shown")


# --- scenario 4: pause then reactivate, with idempotency keys --------------------

def mutation_pool(ctx: Context) -> list[int]:
    """Customers whose first subscription (id s{n}) is active when a run starts."""
    return list(range(1, min(ctx.size.mutation_pool, ctx.size.customers) + 1))


def subscription_id(n: int) -> str:
    return str(dataset.det_uuid("s", n))


def mutation_spec(ctx: Context, threads: int) -> dict[str, Any]:
    pool = mutation_pool(ctx)
    pools = [[{"sub": subscription_id(n), "headers": portal_headers(ctx, n)}
              for n in pool[t::threads]] for t in range(threads)]
    templates = [graphql_body(SUBSCRIPTION_ACTION.format(action=action),
                              {"id": "__ID__", "key": "__KEY__"})
                 .replace("%", "%%").replace("__ID__", "%s").replace("__KEY__", "%s")
                 for action in ACTIONS]
    return {
        "method": "POST", "path": "/graphql", "expect_status": 200, "expect": '"status":"',
        "reject": '"errors"', "pools": pools, "templates": templates,
        "nonce": uuid.uuid4().hex[:12],
    }


def mutation_verify(ctx: Context, client: httpx.Client, n: int) -> None:
    """Pause, replay the pause (same key: the first result, no second action), then
    reactivate; the subscription ends as it began."""
    headers = portal_headers(ctx, n)
    key = uuid.uuid4().hex
    results = []
    for action, idem in (("pauseSubscription", key), ("pauseSubscription", key),
                         ("reactivateSubscription", key + "r")):
        response = client.post("/graphql", headers=headers, json={
            "query": SUBSCRIPTION_ACTION.format(action=action),
            "variables": {"id": subscription_id(n), "key": idem}})
        body = _json(response)
        check(response.status_code == 200 and "errors" not in body, f"{action}: {body}")
        results.append(body["data"][action]["status"])
    check(results == ["paused", "paused", "active"], f"mutation results {results}")


# --- scenario 5: invalid-signature flood -----------------------------------------

def forged_headers(ctx: Context, n: int) -> dict[str, str]:
    return {"x-makepay-portal": dataset.forged_query(ctx.size, n),
            "content-type": "application/json"}


def flood_status(ctx: Context, client: httpx.Client) -> int:
    response = client.post("/graphql", headers=forged_headers(ctx, 1), json={"query": PORTAL})
    return response.status_code


def flood_spec(ctx: Context, status: int) -> dict[str, Any]:
    return {
        "method": "POST", "expect_status": status, "expect": '"PORTAL_LINK_INVALID"',
        "reject": '"portal":{',
        "requests": [{"path": "/graphql", "headers": forged_headers(ctx, n),
                      "body": graphql_body(PORTAL)} for n in hot(ctx)],
    }


def flood_verify(ctx: Context, client: httpx.Client, n: int) -> None:
    response = client.post("/graphql", headers=forged_headers(ctx, n), json={"query": PORTAL})
    body = _json(response)
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    check(codes == ["PORTAL_LINK_INVALID"], f"forged link: {response.status_code} {body}")
    check(not body.get("data"), "forged link returned data")
