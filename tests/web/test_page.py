"""GET /billing and its assets over HTTP: the security headers and caching."""

from __future__ import annotations

import re

from tests.support import Gateway

LINK = "company=acct_123&customer=cus_01hzy4k6p4w9y2x7e2z7n8a2xm&expires=1776765600&signature=" + "8d" * 32


def csp_directives(response_header: str) -> dict[str, str]:
    return {part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
            for part in response_header.split(";") if part.strip()}


async def test_page_is_served_with_strict_security_headers(gw: Gateway) -> None:
    response = await gw.client.get(f"/billing?{LINK}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["form-action"] in ("'none'", "'self'")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_page_holds_no_inline_script_or_style_and_no_other_host(gw: Gateway) -> None:
    html = (await gw.client.get("/billing")).text

    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert "<style" not in html
    assert " style=" not in html
    assert re.search(r"""(src|href)=["']?(https?:)?//""", html) is None
    assert "8d8d" not in html


async def test_page_does_not_echo_the_link(gw: Gateway) -> None:
    response = await gw.client.get(f"/billing?{LINK}")
    assert "8d8d8d" not in response.text
    assert "acct_123" not in response.text


async def test_assets_are_versioned_and_cacheable(gw: Gateway) -> None:
    html = (await gw.client.get("/billing")).text
    paths = re.findall(r'(?:src|href)="(/billing/assets/[^"]+)"', html)
    assert {p.split("?")[0] for p in paths} == {
        "/billing/assets/portal.js", "/billing/assets/portal.css", "/billing/assets/favicon.svg"}
    assert all(re.search(r"\?v=[0-9a-f]{12}$", p) for p in paths)

    for path in paths:
        response = await gw.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "public, max-age=3600"
        etag = response.headers["etag"]
        again = await gw.client.get(path, headers={"if-none-match": etag})
        assert again.status_code == 304
    script = await gw.client.get("/billing/assets/portal.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))


async def test_unknown_asset_is_not_found(gw: Gateway) -> None:
    response = await gw.client.get("/billing/assets/nope.js")
    assert response.status_code == 404
    traversal = await gw.client.get("/billing/assets/..%2f..%2fconfig.py")
    assert traversal.status_code == 404


async def test_page_only_answers_get(gw: Gateway) -> None:
    response = await gw.client.post("/billing")
    assert response.status_code == 405
    head = await gw.client.head("/billing")
    assert head.status_code == 200
    assert head.headers["cache-control"] == "no-store"
