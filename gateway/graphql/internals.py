"""Every private name of Strawberry and graphql-core the gateway relies on, and only
here. Nothing else in the gateway imports a leading-underscore name of either
library, reaches into their private attributes or overrides an executor method
that is not public API.

Each name below was checked against the versions in CHECKED. `problems()` compares
what the installed libraries have with what this module expects, and
tests/graphql/test_internals.py fails with its findings, naming the version and
what changed, when an upgrade changes one. To upgrade Strawberry or graphql-core:
run that test; if it fails, adapt the code it names (or set GRAPHQL_FAST_PATH=false,
which leaves only the serial root fields and the guard on these names), then
record the new version here.

- `Schema._schema` (Strawberry): the graphql-core schema a Strawberry schema builds.
  Strawberry's own extensions (ValidationCache) read it the same way.
- `_OperationContextAwareGraphQLResolveInfo` (Strawberry): the resolve info
  Strawberry's executor gives resolvers; single.py builds one, by keywords.
- `Info._raw_info` (Strawberry): the graphql-core resolve info behind an Info; the
  portal's lookahead (analysis.selected_subfields) reads its field nodes and
  fragments.
- The basic-field resolver's name, `_get_basic_result` (Strawberry): completion.py
  reads a field as Strawberry would only when the field still resolves with it.
- `StrawberryGraphQLCoreExecutionContext` (Strawberry, not exported) and the
  executor methods it inherits from graphql-core's `Executor`, marked private in
  3.3: `execute_fields`, `execute_fields_serially`, `execute_field`,
  `complete_value`, `settle_in_background`, and the attributes `collected_errors`
  and `fragment_definitions`. execution.py overrides or calls them.
- `FieldDetails` (graphql-core, graphql.execution.collect_fields): a field node as
  the executor's completion takes it."""

from __future__ import annotations

import inspect
from importlib.metadata import version
from typing import Any

from graphql import GraphQLSchema
from graphql.execution.collect_fields import FieldDetails
from strawberry import Info
from strawberry.schema.schema import (
    StrawberryGraphQLCoreExecutionContext,
    _OperationContextAwareGraphQLResolveInfo,
)

CHECKED = {"strawberry-graphql": ("0.341.2",), "graphql-core": ("3.3.2",)}

BASIC_RESOLVER_NAME = "_get_basic_result"

ExecutorBase = StrawberryGraphQLCoreExecutionContext

__all__ = ["BASIC_RESOLVER_NAME", "CHECKED", "ExecutorBase", "FieldDetails",
           "graphql_schema", "problems", "raw_resolve_info", "resolve_info"]

RESOLVE_INFO_FIELDS = ("field_name", "field_nodes", "return_type", "parent_type", "path",
                       "schema", "fragments", "root_value", "operation", "variable_values",
                       "context", "is_awaitable", "abort_signal", "async_helpers",
                       "operation_extensions")
# Executor methods the fast path overrides or calls, with their parameters.
EXECUTOR_METHODS = {
    "execute_fields": ("self", "parent_type", "source_value", "path", "grouped_field_set",
                       "position_context"),
    "execute_fields_serially": ("self", "parent_type", "source_value", "path",
                                "grouped_field_set", "position_context"),
    "execute_field": ("self", "parent_type", "source", "field_details_list", "path",
                      "position_context"),
    "complete_value": ("self", "return_type", "field_details_list", "info", "path", "result",
                       "position_context"),
    "settle_in_background": ("self", "awaitables"),
}
EXECUTOR_ATTRIBUTES = ("collected_errors", "fragment_definitions")
FIELD_DETAILS_FIELDS = ("node", "defer_usage", "fragment_variable_values")


def graphql_schema(schema: Any) -> GraphQLSchema:
    """The graphql-core schema of a Strawberry schema."""
    built: GraphQLSchema = schema._schema
    return built


def raw_resolve_info(info: Any) -> Any:
    """graphql-core's resolve info behind a Strawberry `Info` (its field nodes and
    fragments, which Strawberry's Info does not expose)."""
    return info._raw_info


def resolve_info(**fields: Any) -> Any:
    """Strawberry's resolve info, built by keywords (RESOLVE_INFO_FIELDS)."""
    return _OperationContextAwareGraphQLResolveInfo(**fields)


def basic_resolver_name(schema: Any) -> str | None:
    """The name of the resolver Strawberry gives a basic field, as it builds it."""
    for gtype in graphql_schema(schema).type_map.values():
        for field_def in getattr(gtype, "fields", {}).values():
            definition = (field_def.extensions or {}).get("strawberry-definition")
            if getattr(definition, "is_basic_field", False) and field_def.resolve:
                name: str = field_def.resolve.__name__
                return name
    return None


def problems(schema: Any) -> list[str]:
    """What the installed libraries changed among the names above (empty: nothing)."""
    found: list[str] = []
    for package, checked in CHECKED.items():
        installed = version(package)
        if installed not in checked:
            found.append(f"{package} {installed} is installed; the names in "
                         f"gateway/graphql/internals.py were checked against {checked}.")
    if "_raw_info" not in getattr(Info, "__dataclass_fields__", {}):
        found.append("strawberry.Info no longer keeps _raw_info.")
    if not isinstance(getattr(schema, "_schema", None), GraphQLSchema):
        found.append("strawberry.Schema._schema is no longer the graphql-core schema.")
    fields = getattr(_OperationContextAwareGraphQLResolveInfo, "_fields", None)
    if tuple(fields or ()) != RESOLVE_INFO_FIELDS:
        found.append(f"Strawberry's resolve info fields changed: {fields} "
                     f"instead of {RESOLVE_INFO_FIELDS}.")
    resolver = basic_resolver_name(schema)
    if resolver != BASIC_RESOLVER_NAME:
        found.append(f"Strawberry's basic-field resolver is now named {resolver!r}, "
                     f"not {BASIC_RESOLVER_NAME!r}: completion.py would plan no field.")
    for name, parameters in EXECUTOR_METHODS.items():
        method = getattr(StrawberryGraphQLCoreExecutionContext, name, None)
        actual = tuple(inspect.signature(method).parameters) if method else None
        if actual != parameters:
            found.append(f"graphql-core's Executor.{name} changed: {actual} "
                         f"instead of {parameters}.")
    declared = {name for cls in StrawberryGraphQLCoreExecutionContext.__mro__
                for name in inspect.get_annotations(cls)}
    for attribute in EXECUTOR_ATTRIBUTES:
        if attribute not in declared:
            found.append(f"graphql-core's Executor no longer declares {attribute}.")
    if tuple(getattr(FieldDetails, "_fields", ())) != FIELD_DETAILS_FIELDS:
        found.append(f"graphql-core's FieldDetails changed: {getattr(FieldDetails, '_fields', None)}.")
    return found
