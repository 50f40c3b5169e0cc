"""Composes the domains' queries and mutations into one schema, and runs it.

GatewaySchema.execute, for every request, in both modes of GRAPHQL_FAST_PATH:
the document is parsed, screened and validated once per distinct text
(documents.py), then the guard (guard.py) applies every limit and pre-check. Only
then does the switch decide how the operation runs:

- on (the default): the gateway's own execution. An operation of one root field
  with a plain selection runs without graphql-core's executor (single.py); any
  other runs on graphql-core's `execute` with FastExecutionContext, whose plans
  complete plain fields in one pass (execution.py, completion.py). These use
  private names of both libraries, all listed in internals.py.
- off: stock Strawberry execution (its extension runner, its executor with serial
  root fields), handed the prepared document by PreparedDocuments, a public
  Strawberry extension, so nothing is parsed or validated twice.

Both give the same answers (tests/graphql/test_switch.py compares them)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from functools import cached_property
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSchema, execute
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.exceptions import MissingQueryError
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.tools import merge_types
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe

from gateway.audit.queries import AuditQuery
from gateway.company.mutations import CompanyMutation
from gateway.company.queries import CompanyQuery
from gateway.customer.mutations import CustomerMutation
from gateway.customer.queries import CustomerQuery
from gateway.event.queries import EventQuery
from gateway.graphql import guard
from gateway.graphql.arguments import NoNulInStrings
from gateway.graphql.documents import DocumentCache, Prepared
from gateway.graphql.execution import FastExecutionContext, SerialRootExecutionContext
from gateway.graphql.internals import graphql_schema
from gateway.graphql.scalars import DateTime
from gateway.graphql.single import SingleField
from gateway.payment.mutations import PaymentMutation
from gateway.payment_link.mutations import PaymentLinkMutation
from gateway.portal.mutations import PortalMutation
from gateway.portal.queries import PortalQuery
from gateway.portal_link.mutations import PortalLinkMutation
from gateway.subscription.mutations import SubscriptionMutation
from gateway.webhook.mutations import WebhookMutation
from gateway.webhook.queries import WebhookQuery

QUERIES: tuple[type, ...] = (CustomerQuery, CompanyQuery, AuditQuery, PortalQuery, EventQuery,
                             WebhookQuery)
MUTATIONS: tuple[type, ...] = (
    CustomerMutation,
    CompanyMutation,
    PaymentMutation,
    PaymentLinkMutation,
    SubscriptionMutation,
    PortalLinkMutation,
    PortalMutation,
    WebhookMutation,
)

MAX_DEPTH = 10
MAX_ALIASES = 15
# Far above any client's document (the portal page's largest is under 100 tokens);
# with the screen (analysis.py), it bounds validation's work before authentication.
MAX_TOKENS = 1_000
CACHE_SIZE = 1_024

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)


class PreparedDocuments(SchemaExtension):
    """Stock Strawberry execution (GRAPHQL_FAST_PATH off) with the document cache:
    hands Strawberry the document and verdict the guard already had, as Strawberry's
    ParserCache and ValidationCache extensions do with theirs."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        schema = context.schema
        if isinstance(schema, GatewaySchema) and context.query:
            context.graphql_document = schema.prepare(context.query).document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema = context.schema
        if isinstance(schema, GatewaySchema) and context.query:
            context.pre_execution_errors = list(schema.prepare(context.query).errors)
        yield


class GatewaySchema(strawberry.Schema):
    """The schema, its document cache, the guard's pre-checks and the switch."""

    documents: DocumentCache | None = None
    fast_path = True
    hide_suggestions = False
    # Root fields whose refusal is known before execution (guard._precheck).
    prechecks: dict[str, guard.Precheck] = {}  # noqa: RUF012

    @cached_property
    def spent(self) -> guard.SpentBudgets:
        return guard.SpentBudgets()

    def prepare(self, query: str, schema: GraphQLSchema | None = None) -> Prepared:
        """`schema`: the graphql-core schema, when the caller has it already."""
        if self.documents is None:  # a schema built without create_schema (tests)
            self.documents = DocumentCache(maxsize=CACHE_SIZE, max_tokens=MAX_TOKENS,
                                           max_depth=MAX_DEPTH, max_aliases=MAX_ALIASES)
        return self.documents.prepare(query, schema or graphql_schema(self))

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        if not query:
            raise MissingQueryError  # as Strawberry: the view answers BAD_REQUEST
        refused = self.spent.refusal(context_value)
        if refused is not None:
            return refused
        schema = graphql_schema(self)
        prepared = self.prepare(query, schema)
        admitted = await guard.admit(
            schema, prepared, operation_name, variable_values, context_value,
            _allowed(allowed_operation_types), self.prechecks, self.hide_suggestions,
            self.spent)
        if isinstance(admitted, ExecutionResult):
            return admitted
        operation = admitted.operation
        name = operation.name.value if operation.name else None
        if not self.fast_path:
            return await super().execute(query, variable_values, context_value, root_value,
                                         name, allowed_operation_types, operation_extensions)

        document = admitted.document
        if name not in prepared.singles:
            prepared.singles[name] = SingleField.plan_for(schema, document, operation)
        single: SingleField | None = prepared.singles[name]
        if single is not None:
            try:
                answered = await single.run(schema, document, variable_values,
                                            admitted.variables, context_value, root_value,
                                            optimized_is_awaitable, FastExecutionContext,
                                            operation_extensions)
            except Exception as exc:
                return ExecutionResult(data=None, errors=[
                    exc if isinstance(exc, GraphQLError) else GraphQLError(
                        str(exc), original_error=exc)])
            if answered is not None:
                return answered
        try:
            result = await await_maybe(execute(
                schema, document, root_value=root_value, context_value=context_value,
                variable_values=variable_values, operation_name=name,
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                executor_class=FastExecutionContext,
                hide_suggestions=self.hide_suggestions,
                operation_extensions=operation_extensions, plans=prepared.plans))
        except Exception as exc:
            error = exc if isinstance(exc, GraphQLError) else GraphQLError(
                str(exc), original_error=exc)
            return ExecutionResult(data=None, errors=[error])
        return ExecutionResult(data=result.data, errors=result.errors)

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: Any | None = None) -> None:
        # The view formats and logs errors in one place (graphql/errors.py); Strawberry's
        # default would log every expected client error with a traceback.
        return None


def _allowed(types: Iterable[OperationType] | None) -> Collection[OperationType]:
    if types is None:
        return DEFAULT_ALLOWED_OPERATION_TYPES
    # The view's own sets as they are: a set per request costs hashing each member.
    return types if isinstance(types, set | frozenset) else frozenset(types)


def create_schema(*, introspection: bool = True, fast_path: bool = True) -> GatewaySchema:
    """`fast_path`: GRAPHQL_FAST_PATH (see the module's docstring)."""
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
        # Stock execution runs the one extension that hands it the prepared document;
        # the fast path runs none (the guard does what extensions would).
        extensions=[] if fast_path else [PreparedDocuments],
        execution_context_class=SerialRootExecutionContext,
    )
    # Each distinct document is parsed, screened and validated once, with the depth,
    # alias, token and introspection limits; the cache is bounded (documents.py).
    schema.documents = DocumentCache(
        maxsize=CACHE_SIZE, max_tokens=MAX_TOKENS, max_depth=MAX_DEPTH,
        max_aliases=MAX_ALIASES, hide_suggestions=not introspection,
        extra_rules=(NoNulInStrings,) if introspection
        else (NoNulInStrings, NoSchemaIntrospectionCustomRule),
    )
    schema.fast_path = fast_path
    # Where introspection is off, no error suggests field or value names.
    schema.hide_suggestions = not introspection
    # A forged portal link is refused before execution (Context.refuse_bad_link).
    schema.prechecks = {"portal": lambda context: context.refuse_bad_link()}
    return schema


def export_sdl() -> str:
    sdl = create_schema().as_str()
    return "schema {\n  query: Query\n  mutation: Mutation\n}\n\n" + sdl + "\n"
