"""The published REST route: POST /api/partner/v1/makepay/customers/{customerId}/portal."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.kit.jsonresp import NO_STORE, JSONResponse
from gateway.kit.time import iso_ms
from gateway.portal_link.service import IssuedPortalLink
from gateway.portal_link.usecases import issue_portal_link
from gateway.principal import Caller
from gateway.state import State
from gateway.store import RateDecision


def portal_link_body(issued: IssuedPortalLink) -> dict[str, Any]:
    """Exactly the reference's shape, field names and timestamp format."""
    customer = issued.customer
    return {
        "ok": True,
        "companyId": issued.company_id,
        "customer": {
            "id": str(customer.id),
            "uid": customer.uid,
            "email": customer.email,
            "name": customer.name,
            "clientId": customer.client_id,
            "metadata": customer.metadata_,
            "createdAt": iso_ms(customer.created_at),
            "updatedAt": iso_ms(customer.updated_at),
            "urls": {"customerPortal": issued.url},
        },
        "expiresAt": iso_ms(issued.expires_at),
    }


def portal_link_response(issued: IssuedPortalLink, decision: RateDecision | None) -> Response:
    headers = {**NO_STORE, **(decision.headers() if decision else {})}
    return JSONResponse(portal_link_body(issued), headers=headers)


async def create_portal_link(request: Request) -> Response:
    state: State = request.app.state.gateway
    issuer = await Caller(request, state).link_issuer(key_only=True)
    issued, decision = await issue_portal_link(state, issuer, request.path_params["customer_id"])
    return portal_link_response(issued, decision)
