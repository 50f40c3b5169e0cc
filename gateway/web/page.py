"""GET /billing and its assets.

The page's URL is a credential (the signed link), so the page is never cached, never
framed and never sends a Referer; its script only talks to this origin. The HTML
holds no customer data: the script fetches it over POST /graphql."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

WEB_DIR = Path(__file__).parent
ASSETS_DIR = WEB_DIR / "assets"
ASSETS_PATH = "/billing/assets"

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
])
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# Asset URLs carry a hash of their content, so a deploy is picked up at once even
# though browsers keep the files for an hour.
ASSET_MAX_AGE = 3600


def assets_version(directory: Path = ASSETS_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(directory)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def render_page(html_file: Path = WEB_DIR / "index.html", assets_path: str = ASSETS_PATH,
                assets_dir: Path = ASSETS_DIR) -> bytes:
    """The page's HTML with its assets' URL and version (GraphiQL's page is made the same way)."""
    html = html_file.read_text(encoding="utf-8")
    return html.replace("{{assets}}", assets_path).replace("{{version}}", assets_version(assets_dir)).encode()


class PortalAssets(StaticFiles):
    def file_response(self, full_path: PathLike, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}"
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return Response(status_code=405, headers={"Allow": "GET, HEAD"})
        return await super().get_response(path, scope)


def portal_routes() -> list[BaseRoute]:
    page = render_page()

    async def billing_page(request: Request) -> Response:
        return HTMLResponse(page, headers=PAGE_HEADERS)

    return [
        Route("/billing", billing_page, methods=["GET"]),
        Mount(ASSETS_PATH, PortalAssets(directory=ASSETS_DIR), name="portal-assets"),
    ]
