"""The guard: every check an operation passes before it runs, in one place, whichever
way it then runs (GRAPHQL_FAST_PATH on: the gateway's own execution; off: stock
Strawberry execution). GatewaySchema.execute calls `admit` first in both modes.

In order, each cheaper than the next and none needing authentication:

0. No variable holds a NUL character (graphql/arguments.py; literals are checked
   by validation).
1. The document's verdict (documents.py, cached per text): over the token limit or
   refused by the screen (analysis.screen) is charged to the client IP's failure
   budget (past it, the answer is RATE_LIMITED); a syntax or validation error is
   answered as it is.
2. The operation: the named one, or the only one (several without operationName is
   an error, as the spec says); a subscription, or a mutation sent with GET, raises
   BadRequest with a message saying what to send instead.
3. The metrics label (the operation type and root field, gateway.metrics).
4. The cost limit and the `first` range (cost.py).
5. The variables, coerced once; errors are answered as graphql-core would.
6. The forged-link pre-check: a query whose one root field is `portal` with a link
   that fails its signature is refused here, with the resolver's own refusal
   (Context.refuse_bad_link), without building an executor.

What does not depend on the variables is computed once per prepared document and
operation name and kept on the document's cache entry.

Before all of that, `SpentBudgets.refusal`: an IP whose failure budget a refused
document found spent gets RATE_LIMITED for the rest of the window without its
document being read, so a flood of hostile documents costs a JSON decode each
(noted per process, bounded; the budget itself is in the shared store)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableValues,
    get_variable_values,
    is_non_null_type,
    located_error,
)
from graphql.language import OperationType as GraphQLOperationType
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.errors import BadRequest, GatewayError, RateLimited
from gateway.graphql.analysis import Chosen, choose_operation, operation_label
from gateway.graphql.arguments import refuse_nul_variables
from gateway.graphql.cost import cost_error
from gateway.graphql.documents import Prepared
from gateway.metrics import OPERATION_SCOPE_KEY

MAX_COERCION_ERRORS = 50  # graphql-core's default

Precheck = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Admitted:
    document: DocumentNode
    operation: OperationDefinitionNode
    # The variables coerced for the operation (graphql-core's VariableValues).
    variables: Any


class SpentBudgets:
    """Client IPs past their failure budget, with the time their window ends."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def refusal(self, context: Any) -> ExecutionResult | None:
        if not self._until or context is None:
            return None
        ip = context.client_ip
        until = self._until.get(ip)
        if until is None:
            return None
        left = until - context.state.clock.timestamp()
        if left <= 0:
            del self._until[ip]
            return None
        return _refusal(RateLimited(math.ceil(left)))

    def note(self, context: Any, spent: RateLimited) -> None:
        now = context.state.clock.timestamp()
        if len(self._until) >= self.MAX_ENTRIES:
            self._until = {ip: t for ip, t in self._until.items() if t > now}
            if len(self._until) >= self.MAX_ENTRIES:
                return  # the store's budget still refuses them, one parse each
        self._until[context.client_ip] = now + spent.retry_after


def _refusal(error: GatewayError) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(error.message, original_error=error)])


async def admit(schema: GraphQLSchema, prepared: Prepared, operation_name: str | None,
                variables: dict[str, Any] | None, context: Any,
                allowed: Collection[OperationType], prechecks: dict[str, Precheck],
                hide_suggestions: bool, spent: SpentBudgets) -> Admitted | ExecutionResult:
    """The operation to run, or the answer refusing it."""
    if variables:
        nul = refuse_nul_variables(variables)
        if nul is not None:
            return ExecutionResult(data=None, errors=[nul])
    if prepared.refused:
        if context is not None:
            try:
                await context.state.limiter.count_auth_failure(context.client_ip)
            except RateLimited as exc:
                spent.note(context, exc)
                return _refusal(exc)
        return ExecutionResult(data=None, errors=list(prepared.errors))
    document = prepared.document
    if document is None:
        return ExecutionResult(data=None, errors=list(prepared.errors))

    chosen: Chosen | None = prepared.operations.get(operation_name)
    if chosen is None:
        chosen = choose_operation(document, operation_name)
        if chosen.operation is not None or operation_name is None:
            prepared.operations[operation_name] = chosen  # the document's own: bounded
    operation = chosen.operation
    # Before the validation errors: a subscription fails validation too (the schema
    # has none), with a message that does not say what to do instead. Raised: the
    # request itself is wrong, and the view answers 400 BAD_REQUEST.
    if operation is not None and chosen.kind not in allowed:
        if operation.operation is GraphQLOperationType.SUBSCRIPTION:
            raise BadRequest("Subscriptions are not supported: send a query or a mutation.")
        raise BadRequest("Only queries can be sent with GET: send a mutation with POST.")
    if prepared.errors:
        return ExecutionResult(data=None, errors=list(prepared.errors))
    if operation is None:
        return _refusal(BadRequest(chosen.problem))
    name = chosen.name

    request = getattr(context, "request", None)
    if request is not None:
        label = prepared.labels.get(name)
        if label is None:
            label = prepared.labels[name] = operation_label(operation)
        request.scope[OPERATION_SCOPE_KEY] = label

    refused = cost_error(schema, document, operation, variables, prepared.costs)
    if refused is not None:
        return ExecutionResult(data=None, errors=[refused])

    if operation.variable_definitions:
        coerced = get_variable_values(schema, operation.variable_definitions,
                                      variables or {}, max_errors=MAX_COERCION_ERRORS,
                                      hide_suggestions=hide_suggestions)
        if isinstance(coerced, list):
            return ExecutionResult(data=None, errors=coerced)
    else:  # what get_variable_values gives for no definitions: variables sent are ignored
        coerced = VariableValues({}, {})

    if name not in prepared.prechecks:
        prepared.prechecks[name] = _precheck(schema, operation, prechecks)
    precheck = prepared.prechecks[name]
    if precheck is not None and context is not None:
        node, check, locations = precheck
        try:
            await check(context)
        except Exception as exc:
            key = node.alias.value if node.alias else node.name.value
            return ExecutionResult(data=None, errors=[_located(exc, node, key, locations)])
    return Admitted(document, operation, coerced)


def _precheck(schema: GraphQLSchema, operation: OperationDefinitionNode,
              prechecks: dict[str, Precheck]) -> tuple[FieldNode, Precheck, Any] | None:
    """Root fields whose refusal is known before execution: a query made of that one
    field (under any alias; no directive, no variables to coerce), and a non-null
    field, so that its error makes `data` null as graphql-core would."""
    selections = operation.selection_set.selections
    if (operation.operation is not GraphQLOperationType.QUERY
            or operation.variable_definitions or len(selections) != 1):
        return None
    node = selections[0]
    if not isinstance(node, FieldNode) or node.directives:
        return None
    check = prechecks.get(node.name.value)
    root = schema.query_type
    field_def = root.fields.get(node.name.value) if root else None
    if check is None or field_def is None or not is_non_null_type(field_def.type):
        return None
    # The field's locations in the document, worked out once (a line and column
    # search through the text per error otherwise).
    return node, check, located_error(Exception(), [node]).locations


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
