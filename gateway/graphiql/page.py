"""The GraphiQL page and its files.

Everything the page loads comes from this origin: the vendored builds of React,
GraphiQL and its explorer plugin (scripts/vendor-graphiql, licences beside them), the
start-up script as a file rather than inline, and styles. The Content-Security-Policy
says so, and lets the page connect to this origin only. GraphiQL's stylesheet embeds
its fonts and a few images as data: URLs, hence `data:` for those two kinds."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount

from gateway.web.page import CONTENT_SECURITY_POLICY as PORTAL_POLICY
from gateway.web.page import PAGE_HEADERS as PORTAL_HEADERS
from gateway.web.page import PortalAssets, render_page

GRAPHIQL_DIR = Path(__file__).parent
ASSETS_DIR = GRAPHIQL_DIR / "assets"
ASSETS_PATH = "/graphiql/assets"

# The portal page's policy and headers, with data: fonts and images added.
CONTENT_SECURITY_POLICY = (PORTAL_POLICY.replace("img-src 'self'", "img-src 'self' data:")
                           .replace("font-src 'self'", "font-src 'self' data:"))
PAGE_HEADERS = {**PORTAL_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY}


def render_graphiql() -> bytes:
    return render_page(GRAPHIQL_DIR / "index.html", ASSETS_PATH, ASSETS_DIR)


def graphiql_routes() -> list[BaseRoute]:
    """The files; the page itself is GET /graphql with Accept: text/html (graphql/view.py)."""
    return [Mount(ASSETS_PATH, PortalAssets(directory=ASSETS_DIR), name="graphiql-assets")]
