from __future__ import annotations

import asyncio

import strawberry

from gateway.graphql.context import Info
from gateway.portal.types import Portal
from gateway.rate_limit.limiter import PortalBudget


@strawberry.type
class PortalQuery:
    @strawberry.field(
        description="The signed customer's portal. Authenticated only by the link: send its "
        "query string in the x-makepay-portal header."
    )
    async def portal(self, info: Info) -> Portal:
        access = await info.context.portal(PortalBudget.read)
        return Portal(access=access, lock=asyncio.Lock())
