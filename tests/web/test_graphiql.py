"""GET /graphql in a browser: GraphiQL and its files from the gateway's own origin."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from gateway.graphiql.page import GRAPHIQL_DIR
from tests.support import Gateway
from tests.web.test_page import csp_directives

HTML = {"accept": "text/html"}


async def test_graphiql_names_no_other_host_and_runs_no_inline_script(gw: Gateway) -> None:
    response = await gw.client.get("/graphql", headers=HTML)
    policy = response.headers["content-security-policy"]
    csp = csp_directives(policy)

    assert response.status_code == 200
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert re.search(r"https?:|//", policy) is None
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text) is None
    assert re.search(r"""(src|href)=["']?(https?:)?//""", response.text) is None


async def test_every_file_graphiql_loads_is_served_here(gw: Gateway) -> None:
    html = (await gw.client.get("/graphql", headers=HTML)).text
    paths = re.findall(r'(?:src|href)="([^"]+)"', html)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    answers = {path: await gw.client.get(path) for path in paths}

    assert {path.split("?")[0].rsplit("/", 1)[1] for path in scripts} == {
        "react.production.min.js", "react-dom.production.min.js", "graphiql.min.js",
        "graphiql-plugin-explorer.umd.js", "start.js"}
    assert all(path.startswith("/") for path in paths)
    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(paths, 200)
    for path in scripts:
        assert answers[path].headers["content-type"].startswith("text/javascript")


async def test_vendored_files_come_with_their_licences(gw: Gateway) -> None:
    manifest = json.loads((GRAPHIQL_DIR / "vendor.json").read_text())
    for package in manifest["packages"]:
        name = package["name"].lstrip("@").replace("/", "-")
        licence = await gw.client.get(f"/graphiql/assets/vendor/LICENSES/{name}.txt")
        assert licence.status_code == 200
        assert f"{package['name']} {package['version']}" in licence.text
        assert "Permission is hereby granted" in licence.text  # MIT, each of them
        for vendored in package["files"].values():
            assert (await gw.client.get(f"/graphiql/assets/vendor/{vendored}")).status_code == 200


async def test_graphiql_files_are_not_served_when_graphiql_is_off(
    start_gateway: Callable[..., Any],
) -> None:
    gw: Gateway = await start_gateway(graphiql=False)

    page = await gw.client.get("/graphql", headers=HTML)
    script = await gw.client.get("/graphiql/assets/start.js")

    assert page.status_code == 405
    assert script.status_code == 404
