"""Root query fields run one after another; plain leaf fields complete without the
per-field machinery.

A request's resolvers share one AsyncSession (built once in the Context), and an
AsyncSession allows one operation at a time: two root query fields that both reach
the database, run concurrently as graphql-core does by default, fail with "This
session is provisioning a new connection; concurrent operations are not permitted".
Mutation fields are serial by the spec already; this makes query root fields serial
too. Nested fields keep graphql-core's default.

Most fields of a response are attributes of a Strawberry type read as they are (no
resolver, no permission, no extension: Strawberry's "basic" fields) of a scalar or
enum type: the portal query has about 200 of them. graphql-core still builds a
resolve info, checks for awaitables and walks complete_value for each (a third of
the portal query's CPU in the profile). For those fields the value is read with
the same resolver Strawberry would call and serialized by the same scalar; any
case off that path (a null, an awaitable, an exception, a value the scalar does not
serialize) is executed again the normal way, which is safe since reading an
attribute has no effect, and which reports the error exactly as before."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from gateway.graphql import completion

_DEFINITION = "strawberry-definition"
# (parent type, field name) -> (Strawberry field, leaf type, nullable), or None when
# the field is not a plain leaf. Bounded by the schema's size.
_plain_leaves: dict[tuple[str, str], tuple[StrawberryField, Any, bool] | None] = {}


def _plain_leaf(parent_type: GraphQLObjectType, name: str) -> tuple[StrawberryField, Any, bool] | None:
    key = (parent_type.name, name)
    try:
        return _plain_leaves[key]
    except KeyError:
        pass
    found: tuple[StrawberryField, Any, bool] | None = None
    field_def: GraphQLField | None = parent_type.fields.get(name)
    if field_def is not None and not field_def.args:
        definition = (field_def.extensions or {}).get(_DEFINITION)
        resolve = field_def.resolve
        nullable = not isinstance(field_def.type, GraphQLNonNull)
        leaf = field_def.type if nullable else field_def.type.of_type  # type: ignore[union-attr]
        if (isinstance(definition, StrawberryField) and definition.is_basic_field
                and getattr(resolve, "__name__", "") == "_get_basic_result"
                and is_leaf_type(leaf)):
            found = (definition, leaf, nullable)
    _plain_leaves[key] = found
    return found


_NOT_PLAIN = completion.NOT_PLAIN

# (return type, field node) -> the node's completion plan (completion.py) or None.
# An entry holds its type and node, so their ids cannot be reused while it lives;
# cleared when full, so unique documents cannot grow it.
_PLANS_MAX = 4_096
_value_plans: dict[tuple[int, int], tuple[Any, Any, tuple[int, Any, bool] | None]] = {}


def _plain_value(plain: tuple[StrawberryField, Any, bool], source: Any,
                 is_awaitable: Any) -> Any:
    """The field's serialized value, or _NOT_PLAIN to execute it the normal way."""
    field, leaf, nullable = plain
    try:
        value = field.default_resolver(source, field.python_name)
        if value is None:
            return None if nullable else _NOT_PLAIN
        if isinstance(value, Exception) or is_awaitable(value):
            return _NOT_PLAIN
        serialized = leaf.serialize(value)
    except Exception:
        return _NOT_PLAIN
    return _NOT_PLAIN if serialized is None or serialized is Undefined else serialized


class SerialRootExecutionContext(StrawberryGraphQLCoreExecutionContext):
    _plans: dict[tuple[str, int], tuple[Any, list[tuple[str, Any, Any]]]]

    def _plan(self, parent_type: Any, grouped_field_set: Any) -> list[tuple[str, Any, Any]]:
        """The fields of a selection with their plain-leaf verdicts. graphql-core hands
        the same grouped field set for every item of a list (its collect_subfields is
        memoized per execution), so this is worked out once per list, not per item.
        The set is kept alive with its plan, so its id cannot be reused meanwhile."""
        try:
            plans = self._plans
        except AttributeError:
            plans = self._plans = {}
        key = (parent_type.name, id(grouped_field_set))
        found = plans.get(key)
        if found is None:
            plan = [(name, details, _plain_leaf(parent_type, details[0].node.name.value))
                    for name, details in grouped_field_set.items()]
            found = plans[key] = (grouped_field_set, plan)
        return found[1]

    def complete_value(self, return_type: Any, field_details_list: Any, info: Any,
                       path: Any, result: Any, *args: Any) -> AwaitableOrValue[Any]:
        """An object or list whose selection is all plain fields is completed in one
        pass (completion.py); anything else, or any value off that path, the usual way."""
        if len(field_details_list) == 1:
            details = field_details_list[0]
            node = details.node
            key = (id(return_type), id(node))
            found = _value_plans.get(key)
            if found is None:
                plan = (completion.compile_value(return_type, node, self.fragment_definitions)
                        if details.fragment_variable_values is None and node.selection_set
                        else None)
                if len(_value_plans) >= _PLANS_MAX:
                    _value_plans.clear()
                found = _value_plans[key] = (return_type, node, plan)
            plan = found[2]
            if plan is not None and details.fragment_variable_values is None:
                value = completion.complete_value(plan, result, self.is_awaitable)
                if value is not _NOT_PLAIN:
                    return value
        return super().complete_value(return_type, field_details_list, info, path, result,
                                      *args)

    def execute_fields(self, parent_type: Any, source_value: Any, path: Any,
                       grouped_field_set: Any, *args: Any) -> AwaitableOrValue[dict[str, Any]]:
        if path is None:
            return self.execute_fields_serially(parent_type, source_value, path,
                                                grouped_field_set, *args)
        # graphql-core's execute_fields, with plain leaves completed in place (no Path,
        # no resolve info): same results, same gathering of awaitable fields.
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, plain in self._plan(parent_type,
                                                                       grouped_field_set):
                if plain is not None:
                    value = _plain_value(plain, source_value, is_awaitable)
                    if value is not _NOT_PLAIN:
                        results[response_name] = value
                        continue
                result = super().execute_field(
                    parent_type, source_value, field_details_list,
                    Path(path, response_name, parent_type.name), *args)
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()
