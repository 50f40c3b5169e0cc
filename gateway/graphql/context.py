from __future__ import annotations

import strawberry

from gateway.principal import Caller


class Context(Caller):
    """Built once per request. Who is calling, and the database session, come from
    principal.Caller, each made on first use: a resolver awaits the principal it
    needs (`merchant()`, `link_issuer(company_id)`, `portal(budget)` ...), and the
    view adds `response_headers` to the response."""


Info = strawberry.Info[Context, None]
