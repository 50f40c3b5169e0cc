"""Composes the domains' queries and mutations into one schema."""

from __future__ import annotations

from datetime import datetime
from functools import partial

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.base_extension import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from gateway.audit.queries import AuditQuery
from gateway.company.mutations import CompanyMutation
from gateway.company.queries import CompanyQuery
from gateway.customer.mutations import CustomerMutation
from gateway.customer.queries import CustomerQuery
from gateway.graphql.cost import QueryCostLimiter
from gateway.graphql.execution import SerialRootExecutionContext
from gateway.graphql.scalars import DateTime
from gateway.metrics import OperationLabel
from gateway.payment.mutations import PaymentMutation
from gateway.payment_link.mutations import PaymentLinkMutation
from gateway.portal.mutations import PortalMutation
from gateway.portal.queries import PortalQuery
from gateway.portal_link.mutations import PortalLinkMutation
from gateway.subscription.mutations import SubscriptionMutation

QUERIES: tuple[type, ...] = (CustomerQuery, CompanyQuery, AuditQuery, PortalQuery)
MUTATIONS: tuple[type, ...] = (
    CustomerMutation,
    CompanyMutation,
    PaymentMutation,
    PaymentLinkMutation,
    SubscriptionMutation,
    PortalLinkMutation,
    PortalMutation,
)

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000
CACHE_SIZE = 1_024

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)


class GatewaySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # The view formats and logs errors in one place (graphql/errors.py); Strawberry's
        # default would log every expected client error with a traceback.
        return None


def create_schema(*, introspection: bool = True) -> strawberry.Schema:
    # Extensions are given as factories: a shared instance would carry one request's
    # state into another. Both caches are bounded so unique documents cannot grow memory.
    extensions: list[type[SchemaExtension] | partial[SchemaExtension]] = [
        partial(ParserCache, maxsize=CACHE_SIZE),
        partial(ValidationCache, maxsize=CACHE_SIZE),
        partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        QueryCostLimiter,
        OperationLabel,
    ]
    if not introspection:
        extensions.append(partial(AddValidationRules, [NoSchemaIntrospectionCustomRule]))
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
        execution_context_class=SerialRootExecutionContext,
    )


def export_sdl() -> str:
    sdl = create_schema().as_str()
    return "schema {\n  query: Query\n  mutation: Mutation\n}\n\n" + sdl + "\n"
