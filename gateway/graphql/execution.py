"""Execution contexts: root query fields one after another (both modes), and plain
fields completed without the per-field machinery (the fast path only).

A request's resolvers share one AsyncSession (built once in the Context), and an
AsyncSession allows one operation at a time: two root query fields that both reach
the database, run concurrently as graphql-core does by default, fail with "This
session is provisioning a new connection; concurrent operations are not permitted".
Mutation fields are serial by the spec already; SerialRootExecutionContext makes
query root fields serial too, with GRAPHQL_FAST_PATH on or off. Nested fields keep
graphql-core's default.

FastExecutionContext (GRAPHQL_FAST_PATH on): most fields of a response are
attributes of a Strawberry type read as they are (no resolver, no permission, no
extension: Strawberry's "basic" fields): the portal query has about 200 of them.
graphql-core still builds a resolve info, checks for awaitables and walks
complete_value for each (a third of the portal query's CPU in the profile). Such a
field, and a whole selection made of them, is completed in one pass by a plan made
once per document (completion.py): the value read with the resolver Strawberry would
call and serialized by the same scalar. Any case off that path (a null in a non-null
position, an awaitable, an exception, a value the scalar does not serialize) is
executed again the normal way, which is safe since reading an attribute has no
effect, and which reports the error exactly as before.

The plans hold field nodes of the document, so they are kept on the document's own
cache entry (documents.Prepared.plans, passed in as `plans`) and leave the memory
with it; an executor given no plans keeps them for its own execution only."""

from __future__ import annotations

from typing import Any

from graphql import (
    Undefined,
)
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.graphql import completion

_NOT_PLAIN = completion.NOT_PLAIN


class SerialRootExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(self, parent_type: Any, source_value: Any, path: Any,
                       grouped_field_set: Any, *args: Any) -> AwaitableOrValue[dict[str, Any]]:
        if path is None:
            return self.execute_fields_serially(parent_type, source_value, path,
                                                grouped_field_set, *args)
        return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                      *args)


class FastExecutionContext(SerialRootExecutionContext):
    def __init__(self, *args: Any, plans: dict[Any, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (kind, id of the parent or return type, id of the field node) -> plan. The
        # types live as long as the schema and the nodes as long as the plans' owner
        # (the document's cache entry, or this execution), so no id is reused meanwhile.
        self.shared_plans: dict[Any, Any] = {} if plans is None else plans

    _plans: dict[tuple[str, int], tuple[Any, list[tuple[str, Any, Any]]]]

    def _plan(self, parent_type: Any, grouped_field_set: Any
              ) -> list[tuple[str, Any, completion.Entry | None]]:
        """The fields of a selection with their plain-field entries. graphql-core hands
        the same grouped field set for every item of a list (its collect_subfields is
        memoized per execution), so this is looked up once per list, not per item.
        The set is kept alive with its plan, so its id cannot be reused meanwhile."""
        try:
            plans = self._plans
        except AttributeError:
            plans = self._plans = {}
        key = (parent_type.name, id(grouped_field_set))
        found = plans.get(key)
        if found is None:
            plan = [(name, details, self._field_entry(parent_type, details))
                    for name, details in grouped_field_set.items()]
            found = plans[key] = (grouped_field_set, plan)
        return found[1]

    def _field_entry(self, parent_type: Any, details: Any) -> completion.Entry | None:
        if len(details) != 1 or details[0].fragment_variable_values is not None:
            return None
        node = details[0].node
        key = ("field", id(parent_type), id(node))
        plans = self.shared_plans
        if key not in plans:
            plans[key] = completion.compile_field(parent_type, node, self.fragment_definitions)
        entry: completion.Entry | None = plans[key]
        return entry

    def complete_value(self, return_type: Any, field_details_list: Any, info: Any,
                       path: Any, result: Any, *args: Any) -> AwaitableOrValue[Any]:
        """An object or list whose selection is all plain fields is completed in one
        pass (completion.py); anything else, or any value off that path, the usual way."""
        if len(field_details_list) == 1:
            details = field_details_list[0]
            node = details.node
            key = ("value", id(return_type), id(node))
            plans = self.shared_plans
            if key in plans:
                plan = plans[key]
            else:
                plan = plans[key] = (
                    completion.compile_value(return_type, node, self.fragment_definitions)
                    if details.fragment_variable_values is None and node.selection_set
                    else None)
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
        # graphql-core's execute_fields, with plain fields completed in place (no Path,
        # no resolve info): same results, same gathering of awaitable fields.
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, plain in self._plan(parent_type,
                                                                       grouped_field_set):
                if plain is not None:
                    value = completion.field_value(plain, source_value, is_awaitable)
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
