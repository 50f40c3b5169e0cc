"""POST /api/dashboard/companies/{companyId}/makepay/customers/{customerId}/portal:
the partner route's link, for a signed-in user with settings.manage on the company."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.portal_link.usecases import issue_portal_link
from gateway.principal import Caller
from gateway.rest.partner import portal_link_response
from gateway.state import State


async def create_portal_link(request: Request) -> Response:
    state: State = request.app.state.gateway
    caller = Caller(request, state)
    try:
        principal = await caller.team_manager(request.path_params["company_id"])
    finally:
        await caller.close()
    issued, decision = await issue_portal_link(state, principal, request.path_params["customer_id"])
    return portal_link_response(issued, decision)
