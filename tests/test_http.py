"""Health, readiness, GraphiQL and the request log."""

from __future__ import annotations

import inspect
import logging
import re

import pytest

from tests.factories import create_api_key, create_company, create_customer
from tests.support import Gateway


async def test_healthz(gw: Gateway) -> None:
    response = await gw.client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"ok": True})


async def test_readyz_checks_database_and_store(gw: Gateway) -> None:
    response = await gw.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "checks": {"database": True, "redis": True}}


async def test_graphiql_in_a_browser(gw: Gateway) -> None:
    response = await gw.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_get_runs_queries_but_never_mutations(gw: Gateway) -> None:
    query = await gw.client.get("/graphql", params={"query": "{ __typename }"})
    mutation = await gw.client.get(
        "/graphql", params={"query": 'mutation { createCustomer(input: {email: "a@example.com"}) { id } }'})
    assert query.json() == {"data": {"__typename": "Query"}}
    assert mutation.status_code == 400


async def test_post_needs_json(gw: Gateway) -> None:
    response = await gw.client.post("/graphql", content="query={__typename}",
                                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415


async def test_batches_are_refused(gw: Gateway) -> None:
    response = await gw.client.post("/graphql", json=[{"query": "{ __typename }"}] * 2)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_unknown_route_is_a_json_404(gw: Gateway) -> None:
    response = await gw.client.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_logs_never_carry_secrets_or_signed_links(gw: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    company = await create_company(gw)
    headers = await create_api_key(gw, company)
    customer = await create_customer(gw, company)
    caplog.set_level(logging.DEBUG)

    body = (await gw.client.post(f"/api/partner/v1/makepay/customers/{customer.uid}/portal",
                                 headers=headers)).json()
    portal_url = body["customer"]["urls"]["customerPortal"]
    query = portal_url.split("?", 1)[1]
    signature = query.rsplit("signature=", 1)[1]
    await gw.client.get(f"/billing?{query}")
    await gw.client.post("/graphql", json={"query": "{ __typename }"}, headers={"x-makepay-portal": query})
    await gw.client.post(f"/api/partner/v1/makepay/customers/{customer.uid}/portal",
                         headers={**headers, "x-makecrypto-key-secret": "wrong-" + headers["x-makecrypto-key-secret"]})

    # Everything the server side logged (the test's own HTTP client is not the server).
    logged = "\n".join(record.getMessage() + " " + str(vars(record))
                       for record in caplog.records if not record.name.startswith("httpx"))
    assert "/api/partner/v1/makepay/customers" in logged, "requests are logged"
    assert headers["x-makecrypto-key-secret"] not in logged
    assert signature not in logged
    assert "signature=" not in logged


@pytest.mark.parametrize("forged", ["zz) FORGED-LOG-TEXT user=admin (x", "a" * 65, "caf\u00e9", ""])
async def test_a_malformed_request_id_is_replaced_and_never_logged(
    gw: Gateway, caplog: pytest.LogCaptureFixture, forged: str,
) -> None:
    caplog.set_level(logging.INFO)

    response = await gw.client.post("/graphql", json={"query": "{ __typename }"},
                                    headers={"x-request-id": forged.encode()})

    request_id = response.headers["x-request-id"]
    assert re.fullmatch("[0-9a-f]{32}", request_id)
    access = [r for r in caplog.records if r.name == "gateway.access"]
    assert [getattr(r, "request_id", None) for r in access] == [request_id]
    logged = "\n".join(record.getMessage() + " " + str(vars(record)) for record in caplog.records)
    if forged:
        assert forged not in logged
        assert forged.encode().decode("latin-1") not in logged


async def test_a_well_formed_request_id_is_kept(gw: Gateway) -> None:
    response = await gw.client.get("/healthz", headers={"x-request-id": "trace-42-Ab"})

    assert response.headers["x-request-id"] == "trace-42-Ab"


def test_the_uvicorn_internals_the_head_limit_relies_on_are_there() -> None:
    """gateway/http_protocol.py subclasses uvicorn's httptools protocol; an upgrade that
    renames or reshapes what it relies on fails here by name (the process tests in
    tests/operations/test_http_server.py check the behaviour)."""
    from uvicorn.config import Config
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    assert list(inspect.signature(HttpToolsProtocol.__init__).parameters) == [
        "self", "config", "server_state", "app_state", "_loop"]
    for name in ("on_message_begin", "on_headers_complete", "data_received"):
        assert callable(getattr(HttpToolsProtocol, name, None)), name
    assert "self.url = " in inspect.getsource(HttpToolsProtocol.on_message_begin)
    assert "self.headers.append((name, value))" in inspect.getsource(HttpToolsProtocol.on_header)
    assert "app = self.app" in inspect.getsource(HttpToolsProtocol.on_headers_complete)
    assert Config(app="gateway.asgi:app", h11_max_incomplete_event_size=1).h11_max_incomplete_event_size == 1
