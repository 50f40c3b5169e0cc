from __future__ import annotations

import asyncio

import strawberry

from gateway.graphql.context import Info
from gateway.portal.types import Portal


@strawberry.type
class PortalQuery:
    @strawberry.field(
        description="The signed customer's portal. Authenticated only by the link: send its "
        "query string in the x-makepay-portal header."
    )
    async def portal(self, info: Info) -> Portal:
        ctx = info.context
        ctx.reads_only()
        access = await ctx.portal()
        decision = await ctx.state.limiter.portal_read(
            access.company_id, access.customer.uid, access.link.signature
        )
        if decision is not None:
            ctx.response_headers.update(decision.headers())
        return Portal(access=access, lock=asyncio.Lock())
