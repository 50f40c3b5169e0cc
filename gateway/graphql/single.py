"""Operations of one root field with a plain selection, run without graphql-core's
executor.

createPortalLink, the call merchants make on every billing click, is one mutation
field whose result (the link, the customer, their urls) is made only of plain
fields. For such an operation graphql-core still builds an executor (fragment
tables, incremental-delivery state, async helpers), collects the root fields, runs
them through a reducer of futures and builds an incremental response: in the
profile, more CPU than the field's own completion.

`SingleField.run` does what the spec asks for this shape and no more (the guard has
coerced the variables): coerce the field's arguments (once per document when they are
literals), call the field's resolver (Strawberry's,
so its argument conversion, Info and permission machinery are unchanged) with the
resolve info Strawberry's own execution context builds, and complete the value with
the field's plan (completion.py). An error from the resolver is located on the field
exactly as graphql-core locates it; a null or an error in a non-null root field makes
`data` null. Anything unusual before the resolver runs (arguments that do not
coerce) returns None, and the caller runs the operation the usual way, which
reports it; a value the plan cannot complete is completed by graphql-core's own
executor, so its errors read as before. A test compares the answers with
Strawberry's for each of these cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_argument_values,
    located_error,
)
from graphql.pyutils import Path
from strawberry.types import ExecutionResult

from gateway.graphql import completion
from gateway.graphql.analysis import fragments_of
from gateway.graphql.internals import FieldDetails, resolve_info


@dataclass(frozen=True, slots=True)
class SingleField:
    operation: OperationDefinitionNode
    root_type: GraphQLObjectType
    field_def: GraphQLField
    node: FieldNode
    key: str
    fragments: dict[str, FragmentDefinitionNode]
    plan: tuple[int, Any, bool]
    arguments: dict[str, Any] | None  # coerced once (completion.literal_arguments), or None

    @classmethod
    def plan_for(cls, schema: GraphQLSchema, document: DocumentNode,
                 operation: OperationDefinitionNode) -> SingleField | None:
        """The plan when the operation has this shape, else None (computed once per
        prepared document and operation)."""
        if operation.directives or any(
                variable.directives for variable in operation.variable_definitions or ()):
            return None
        fragments = fragments_of(document)
        root_type = (schema.mutation_type if operation.operation is OperationType.MUTATION
                     else schema.query_type if operation.operation is OperationType.QUERY
                     else None)
        selections = operation.selection_set.selections
        if root_type is None or len(selections) != 1:
            return None
        node = selections[0]
        if not isinstance(node, FieldNode) or node.directives or node.name.value.startswith("__"):
            return None
        field_def = root_type.fields.get(node.name.value)
        if field_def is None or field_def.resolve is None:
            return None
        key = node.alias.value if node.alias else node.name.value
        # A query's plan may call the resolvers below the root field (the portal's
        # payments(first, after)); a mutation's leaves them to graphql-core, which
        # calls each once.
        resolvers_at = ((key, root_type.name),) if operation.operation is OperationType.QUERY else None
        plan = completion.compile_value(field_def.type, node, fragments, resolvers_at)
        if plan is None:
            return None
        return cls(operation, root_type, field_def, node, key, fragments, plan,
                   completion.literal_arguments(field_def, node))

    async def run(self, schema: GraphQLSchema, document: DocumentNode,
                  variables: dict[str, Any] | None, coerced: Any, context: Any, root_value: Any, is_awaitable: Any,
                  execution_context_class: Any,
                  operation_extensions: dict[str, Any] | None) -> ExecutionResult | None:
        """`coerced`: the `variables` as the guard coerced them for the operation."""
        args = self.arguments
        if args is None:
            try:
                args = get_argument_values(self.field_def, self.node, coerced)
            except GraphQLError:
                return None  # nothing has run yet: the usual path reports it
        path = Path(None, self.key, self.root_type.name)
        info = resolve_info(
            field_name=self.node.name.value, field_nodes=[self.node],
            return_type=self.field_def.type, parent_type=self.root_type, path=path,
            schema=schema, fragments=self.fragments, root_value=root_value,
            operation=self.operation, variable_values=coerced.coerced, context=context,
            is_awaitable=is_awaitable, abort_signal=None, async_helpers=None,
            operation_extensions=operation_extensions)
        try:
            result = self.field_def.resolve(root_value, info, **args)  # type: ignore[misc]
            if is_awaitable(result):
                result = await result
            resolving = completion.Resolving(
                schema, self.fragments, root_value, self.operation, coerced, context,
                is_awaitable, operation_extensions,
            ) if self.operation.operation is OperationType.QUERY else None
            value = completion.complete_value(self.plan, result, is_awaitable, resolving)
        except Exception as exc:
            error = located_error(exc, [self.node], path.as_list())
            return ExecutionResult(data=self._failed(), errors=[error])
        if value is completion.NOT_PLAIN:
            return await self._complete_usual_way(schema, document, variables, context,
                                                  root_value, is_awaitable,
                                                  execution_context_class, info, result)
        return ExecutionResult(data={self.key: value}, errors=None)

    def _failed(self) -> dict[str, Any] | None:
        """`data` when the root field failed: null propagates past a non-null field."""
        return None if isinstance(self.field_def.type, GraphQLNonNull) else {self.key: None}

    async def _complete_usual_way(self, schema: GraphQLSchema, document: DocumentNode,
                                  variables: dict[str, Any] | None, context: Any,
                                  root_value: Any, is_awaitable: Any,
                                  execution_context_class: Any, info: Any,
                                  result: Any) -> ExecutionResult:
        """graphql-core's completion of a value already resolved (its errors, its
        paths): a null where the schema says non-null, a value that does not
        serialize. As graphql-core's execute_field and execute_operation: an error
        in a non-null root field nulls `data`, in a nullable one the field."""
        executor = execution_context_class.build(
            schema, document, root_value, context, variables,
            self.operation.name.value if self.operation.name else None,
            is_awaitable=is_awaitable)
        details = [FieldDetails(node=self.node, defer_usage=None)]
        data: dict[str, Any] | None
        try:
            value = executor.complete_value(self.field_def.type, details, info, info.path,
                                            result, None)
            if is_awaitable(value):
                value = await value
            data = {self.key: value}
        except Exception as exc:
            error = located_error(exc, [self.node], info.path.as_list())
            data = self._failed()
            executor.collected_errors.add(error, None if data is None else info.path)
        return ExecutionResult(data=data, errors=executor.collected_errors.errors or None)
