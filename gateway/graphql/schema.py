"""Composes the domains' queries and mutations into one schema."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    is_non_null_type,
    located_error,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.language import OperationType as GraphQLOperationType
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.execution import optimized_is_awaitable
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.await_maybe import await_maybe
from strawberry.utils.operation import get_first_operation, get_operation_type

from gateway.audit.queries import AuditQuery
from gateway.company.mutations import CompanyMutation
from gateway.company.queries import CompanyQuery
from gateway.customer.mutations import CustomerMutation
from gateway.customer.queries import CustomerQuery
from gateway.event.queries import EventQuery
from gateway.graphql import direct
from gateway.graphql.arguments import NoNulInStrings, refuse_nul_variables
from gateway.graphql.cost import cost_error
from gateway.graphql.documents import DocumentCache
from gateway.graphql.execution import SerialRootExecutionContext
from gateway.graphql.scalars import DateTime
from gateway.graphql.single import SingleField
from gateway.metrics import OPERATION_SCOPE_KEY, operation_label
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
MAX_TOKENS = 2_000
CACHE_SIZE = 1_024

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)


class GatewaySchema(strawberry.Schema):
    """Runs a prepared document straight on graphql-core.

    The cost limit and the metrics label were Strawberry schema extensions, and the
    extension runner they need cost more per request than both (new context managers
    for every hook of every request: ~8% of the portal query's samples). Both depend
    only on the document (and, for the cost, on the variables that feed a `first`),
    so they are computed once per prepared document and operation name (documents.py)
    and checked here, at the point where the extensions' on_execute ran: after
    parsing, the operation type check and validation, before execution. Anything
    else (no query, a text that does not parse, an unknown or disallowed operation,
    a document with validation errors) takes Strawberry's own path, which reports it
    exactly as before; the schema has no extensions, so that path runs none."""

    documents: DocumentCache | None = None

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
        refused_text = refuse_nul_variables(variable_values)
        if refused_text is not None:
            return ExecutionResult(data=None, errors=[refused_text])
        prepared = (self.documents.prepare(query, self)
                    if self.documents is not None and query else None)
        if prepared is None or prepared.errors:
            return await self._strawberry_execute(
                query, variable_values, context_value, root_value, operation_name,
                allowed_operation_types, operation_extensions)
        document = prepared.document
        found = prepared.operations.get(operation_name)
        if found is None:
            found = _operation(document, operation_name)
            if found[1] is not None:  # only the document's own operations: bounded
                prepared.operations[operation_name] = found
        name, operation_type = found
        allowed = (allowed_operation_types if allowed_operation_types is not None
                   else DEFAULT_ALLOWED_OPERATION_TYPES)
        if operation_type is None or operation_type not in allowed:
            return await self._strawberry_execute(
                query, variable_values, context_value, root_value, operation_name,
                allowed_operation_types, operation_extensions)
        operation_name = name

        request = getattr(context_value, "request", None)
        if request is not None:
            label = prepared.labels.get(operation_name)
            if label is None:
                label = prepared.labels[operation_name] = operation_label(document,
                                                                          operation_name)
            request.scope[OPERATION_SCOPE_KEY] = label
        refused = cost_error(self._schema, document, operation_name, variable_values,
                             prepared.costs)
        if refused is not None:
            return ExecutionResult(data=None, errors=[refused])
        if operation_name not in prepared.prechecks:
            prepared.prechecks[operation_name] = self._precheck(document, operation_name)
        precheck = prepared.prechecks[operation_name]
        if precheck is not None and context_value is not None:
            node, check, locations = precheck
            try:
                await check(context_value)
            except Exception as exc:
                key = node.alias.value if node.alias else node.name.value
                return ExecutionResult(data=None, errors=[_located(exc, node, key, locations)])
        if operation_name not in prepared.singles:
            prepared.singles[operation_name] = SingleField.plan_for(self._schema, document,
                                                                    operation_name)
        single: SingleField | None = prepared.singles[operation_name]
        if single is not None:
            try:
                answered = await single.run(self, document, variable_values, context_value,
                                            root_value, optimized_is_awaitable,
                                            self.execution_context_class, operation_extensions)
            except Exception as exc:
                return ExecutionResult(data=None, errors=[
                    exc if isinstance(exc, GraphQLError) else GraphQLError(
                        str(exc), original_error=exc)])
            if answered is not None:
                return answered
        try:
            result = await await_maybe(self._get_execute_function()(
                self._schema,
                document,
                root_value=root_value,
                variable_values=variable_values,
                operation_name=operation_name,
                context_value=context_value,
                is_awaitable=optimized_is_awaitable,
                **execution_context_class_kwargs(self.execution_context_class),
                **self._get_custom_context_kwargs(operation_extensions),
            ))
        except Exception as exc:
            error = exc if isinstance(exc, GraphQLError) else GraphQLError(
                str(exc), original_error=exc)
            return ExecutionResult(data=None, errors=[error])
        graphql_result: GraphQLExecutionResult = result
        return ExecutionResult(data=graphql_result.data, errors=graphql_result.errors)

    # Root fields whose refusal is known before execution: a query made of that one
    # field (under any alias; no directive, no variables to coerce), and a non-null
    # field, so that its error makes `data` null as graphql-core would. The check
    # raises the field's error or returns to let execution run as usual.
    prechecks: dict[str, Callable[[Any], Awaitable[None]]] = {}  # noqa: RUF012

    def _precheck(self, document: DocumentNode, operation_name: str | None
                  ) -> tuple[FieldNode, Callable[[Any], Awaitable[None]], Any] | None:
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode) or (
                    operation_name is not None
                    and (definition.name is None or definition.name.value != operation_name)):
                continue
            selections = definition.selection_set.selections
            if (definition.operation is not GraphQLOperationType.QUERY
                    or definition.variable_definitions or len(selections) != 1):
                return None
            node = selections[0]
            if not isinstance(node, FieldNode) or node.directives:
                return None
            check = self.prechecks.get(node.name.value)
            root = self._schema.query_type
            field_def = root.fields.get(node.name.value) if root else None
            if check is None or field_def is None or not is_non_null_type(field_def.type):
                return None
            # The field's locations in the document, worked out once (a line and
            # column search through the text per error otherwise).
            return node, check, located_error(Exception(), [node]).locations
        return None

    async def _strawberry_execute(self, *args: Any) -> ExecutionResult:
        return await super().execute(*args)

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


def _operation(document: DocumentNode, operation_name: str | None
               ) -> tuple[str | None, OperationType | None]:
    """The operation's name and type, as Strawberry finds them (None: unknown)."""
    name = operation_name
    if name is None:  # as Strawberry: the first operation's name
        first = get_first_operation(document)
        name = first.name.value if first and first.name else None
    try:
        return name, get_operation_type(document, name)
    except RuntimeError:
        return name, None


def _located(exc: Exception, node: FieldNode, key: str, locations: Any) -> GraphQLError:
    """graphql-core's located_error for a refusal of the root field `node`, with the
    locations computed once for the prepared document."""
    if isinstance(exc, GraphQLError) and exc.path is not None:
        return exc
    try:
        message = str(exc.message)  # type: ignore[attr-defined]
    except AttributeError:
        message = str(exc)
    error = GraphQLError(message, path=[key], original_error=exc)
    error.nodes, error.locations = [node], locations
    if node.loc is not None:
        error.source, error.positions = node.loc.source, [node.loc.start]
    return error


def create_schema(*, introspection: bool = True) -> strawberry.Schema:
    # Each distinct document is parsed and validated once, with the depth, alias, token
    # and introspection limits (graphql/documents.py); the cache is bounded.
    documents = DocumentCache(
        maxsize=CACHE_SIZE, max_tokens=MAX_TOKENS, max_depth=MAX_DEPTH, max_aliases=MAX_ALIASES,
        extra_rules=(NoNulInStrings,) if introspection
        else (NoNulInStrings, NoSchemaIntrospectionCustomRule),
    )
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        # No schema extensions: the cost limit and the metrics label are computed
        # once per prepared document (GatewaySchema.execute).
        config=StrawberryConfig(scalar_map={datetime: DateTime}),
        execution_context_class=SerialRootExecutionContext,
    )
    schema.documents = documents
    # Synchronous resolvers of scalar arguments only, called without Strawberry's
    # per-call wrapping, which would return their arguments unchanged (direct.py).
    direct.install(schema)
    # A forged portal link is refused before execution (Context.refuse_bad_link).
    schema.prechecks = {"portal": lambda context: context.refuse_bad_link()}
    return schema


def export_sdl() -> str:
    sdl = create_schema().as_str()
    return "schema {\n  query: Query\n  mutation: Mutation\n}\n\n" + sdl + "\n"
