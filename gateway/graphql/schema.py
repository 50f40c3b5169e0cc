"""Composes the domains' queries and mutations into one schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from gateway.audit.queries import AuditQuery
from gateway.company.mutations import CompanyMutation
from gateway.company.queries import CompanyQuery
from gateway.customer.mutations import CustomerMutation
from gateway.customer.queries import CustomerQuery
from gateway.graphql.cost import QueryCostLimiter
from gateway.graphql.documents import DocumentCache
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
    documents: DocumentCache | None = None

    def _create_execution_context(self, *args: Any, **kwargs: Any) -> ExecutionContext:
        # Strawberry parses and validates only what the context lacks (its
        # _parse_operation_document and _run_validation check first).
        context = super()._create_execution_context(*args, **kwargs)
        if self.documents is not None:
            self.documents.apply(context)
        return context

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # The view formats and logs errors in one place (graphql/errors.py); Strawberry's
        # default would log every expected client error with a traceback.
        return None


def create_schema(*, introspection: bool = True) -> strawberry.Schema:
    # Each distinct document is parsed and validated once, with the depth, alias, token
    # and introspection limits (graphql/documents.py); the cache is bounded.
    documents = DocumentCache(
        maxsize=CACHE_SIZE, max_tokens=MAX_TOKENS, max_depth=MAX_DEPTH, max_aliases=MAX_ALIASES,
        extra_rules=() if introspection else (NoSchemaIntrospectionCustomRule,),
    )
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        # Given as classes, so each request gets fresh instances: a shared instance
        # would carry one request's state into another.
        extensions=[QueryCostLimiter, OperationLabel],
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
        execution_context_class=SerialRootExecutionContext,
    )
    schema.documents = documents
    return schema


def export_sdl() -> str:
    sdl = create_schema().as_str()
    return "schema {\n  query: Query\n  mutation: Mutation\n}\n\n" + sdl + "\n"
