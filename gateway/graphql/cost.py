"""A query cost limit, computed from the document and its variables before execution.

Depth, alias and token limits bound the size of a document, not the work it asks
for: `customers(first: 100) { edges { node { ... } } }` under fifteen aliases is a
small document and 1,500 rows. Each selected field costs 1, and a field's subtree
is multiplied by the number of items it can return: its `first` argument (which must
lie in 1..MAX_PAGE), or LIST_ESTIMATE for a list without one. A connection's `edges`
is already counted by the `first` of the field that returned the connection."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    value_from_ast,
)

from gateway.errors import BadRequest, GatewayError
from gateway.graphql.analysis import Fragments, fragments_of, walk_fields

MAX_COST = 5_000
MAX_PAGE = 100
LIST_ESTIMATE = 10
_CONNECTION_EDGES = "edges"


class QueryTooComplex(GatewayError):
    code = "QUERY_TOO_COMPLEX"
    status = 400


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list |= isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class _Coster:
    def __init__(self, schema: GraphQLSchema, fragments: Fragments,
                 variables: dict[str, Any]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.reads_variables = False  # whether the cost depends on the variables

    def _first(self, node: FieldNode, definition: GraphQLField) -> int | None:
        arg = definition.args.get("first")
        if arg is None:
            return None
        value: Any = arg.default_value
        for given in node.arguments or ():
            if given.name.value == "first":
                self.reads_variables |= not isinstance(given.value, IntValueNode | NullValueNode)
                value = value_from_ast(given.value, arg.type, self.variables)
        if value is None or not isinstance(value, int):
            return MAX_PAGE
        if not 1 <= value <= MAX_PAGE:
            raise BadRequest(f"first must be between 1 and {MAX_PAGE}.")
        return value

    def cost(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        if selection_set is None:
            return 0
        total = 0
        for node, condition in walk_fields(selection_set, self.fragments):
            scope = self.schema.get_type(condition) if condition is not None else parent
            name = node.name.value
            if name.startswith("__"):
                total += 1  # introspection: fixed size, served only where enabled
                continue
            fields = getattr(scope, "fields", None) or {}
            definition = fields.get(name)
            if definition is None:
                total += 1
                continue
            child_type, is_list = _unwrap(definition.type)
            first = self._first(node, definition)
            if first is not None:
                factor = first
            elif is_list and name != _CONNECTION_EDGES:
                factor = LIST_ESTIMATE
            else:
                factor = 1
            total += 1 + factor * self.cost(node.selection_set, child_type)
        return total


def operation_cost(schema: GraphQLSchema, document: DocumentNode,
                   operation: OperationDefinitionNode,
                   variables: dict[str, Any] | None) -> tuple[int, bool]:
    """The cost, and whether it depends on the variables (if not, it is the document's)."""
    root = schema.get_root_type(operation.operation)
    coster = _Coster(schema, fragments_of(document), variables or {})
    return coster.cost(operation.selection_set, root), coster.reads_variables


def cost_error(schema: GraphQLSchema, document: DocumentNode,
               operation: OperationDefinitionNode, variables: dict[str, Any] | None,
               known: dict[str | None, Any]) -> GraphQLError | None:
    """The error refusing an operation whose cost exceeds MAX_COST, or whose `first` is
    out of range; None to run it. `known` holds the costs that need no variables, by
    operation name (the prepared document's), so a known document is costed once."""
    name = operation.name.value if operation.name else None
    if known.get(name) is not None:
        return None
    try:
        cost, reads_variables = operation_cost(schema, document, operation, variables)
        if cost > MAX_COST:
            raise QueryTooComplex(
                f"The query costs {cost}, more than the limit of {MAX_COST}. "
                "Ask for fewer items or fields.", cost=cost, maxCost=MAX_COST)
    except (GatewayError, GraphQLError, TypeError, ValueError) as exc:
        error = exc if isinstance(exc, GatewayError) else BadRequest(
            "The operation's arguments are invalid.")
        return GraphQLError(error.message, original_error=error)
    if not reads_variables:
        known[name] = cost
    return None
