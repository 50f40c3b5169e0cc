from __future__ import annotations

import strawberry

from gateway.db import one_connection
from gateway.graphql.analysis import selected_subfields
from gateway.graphql.context import Info
from gateway.portal.reads import LOOKAHEAD_FIELDS, PortalReads, selected_needs
from gateway.portal.types import Portal
from gateway.rate_limit.limiter import PortalBudget


@strawberry.type
class PortalQuery:
    @strawberry.field(
        description="The signed customer's portal. Authenticated only by the link: send its "
        "query string in the x-makepay-portal header."
    )
    async def portal(self, info: Info) -> Portal:
        ctx = info.context
        ctx.reads_only()  # a query writes nothing: no BEGIN and ROLLBACK round trips
        # The customer lookup and the lists share one pooled connection.
        async with one_connection():
            access = await ctx.portal(PortalBudget.read)
            reads = PortalReads(ctx.get_session, ctx.state.engine, ctx.state.clock, access)
            # The lists the query selects, in one statement, before their fields resolve.
            await reads.read_ahead(selected_needs(selected_subfields(info, LOOKAHEAD_FIELDS)))
        return Portal.build(access, reads)
