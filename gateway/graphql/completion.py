"""Completion plans: a selection made only of plain fields, completed in one pass.

graphql-core completes a resolved value field by field: for every object it collects
the sub-selection, builds a Path and a resolve info per field, calls the field's
resolver, checks for awaitables and walks complete_value through the NonNull and
List wrappers. For the portal query (about 45 objects and 200 leaves, nearly all of
them attributes of Strawberry types read as they are) that machinery was most of the
request's CPU time in the profile, more than the database and Redis calls together.

A *plain* field is a Strawberry "basic" field (no resolver, no extension, no
arguments: its value is the source's attribute, read with the field's own default
resolver, exactly as Strawberry's basic-field resolver reads it) whose type is a leaf,
an object type without `is_type_of`, or a list of those. When every field of a
selection is plain (recursively, and with no directive, no fragment on another type
and no response key selected twice), the selection gets a plan: a tuple of entries
computed once per field node and return type, which `complete` walks to build the
response dict directly.

The plan is only a faster route to graphql-core's own answer. Anything off the
common path (a null in a non-null position, an exception or awaitable as a value,
a scalar that does not serialize, an iterable that is not a list or tuple) makes
`complete` return NOT_PLAIN, and the caller completes the value again the normal
way; that is safe because reading attributes has no effect, and it reports errors
exactly as graphql-core does."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    Undefined,
    VariableValues,
    get_argument_values,
    is_leaf_type,
)
from graphql.pyutils import Path
from strawberry.types.field import StrawberryField

from gateway.graphql.internals import BASIC_RESOLVER_NAME, resolve_info

NOT_PLAIN: Any = object()

_DEFINITION = "strawberry-definition"
# In this order: `complete` tells the kinds read from the source (below _TYPENAME)
# from the others with one comparison.
_LEAF, _OBJECT, _LIST, _TYPENAME, _RESOLVED = range(5)

# An entry: (response key, read, attribute name, kind, payload, nullable), where
# read(source, attribute) is the field's default resolver; payload is the scalar's
# serialize function with the type it returns unchanged, if any (_LEAF), the object's
# plan with its Python class (_OBJECT), (item kind, item payload, item nullable)
# (_LIST), the type name (_TYPENAME), or for a field with a resolver (_RESOLVED, in a
# single-field query's plan only) a _Resolved.
Entry = tuple[str, Callable[[Any, str], Any], str, int, Any, bool]
PathKeys = tuple[tuple[str, str], ...]  # (response key, parent type name) from the root
Plan = tuple[Entry, ...]

# Values that are never awaitable nor exceptions: the common case skips both checks.
_PLAIN_TYPES: frozenset[type] = frozenset({str, int, float, bool, datetime, date, Decimal,
                                           uuid.UUID, dict, list, tuple})
# Scalars whose serialize returns a value of this exact type unchanged.
_SERIALIZED_AS_IS: dict[Callable[[Any], Any], type] = {
    GraphQLString.serialize: str, GraphQLID.serialize: str, GraphQLBoolean.serialize: bool}


def complete(plan: Plan, source: Any, is_awaitable: Callable[[Any], bool],
             resolving: Resolving | None = None) -> Any:
    """The selection's response dict for `source`, or NOT_PLAIN."""
    out: dict[str, Any] = {}
    for key, read, attribute, kind, payload, nullable in plan:
        if kind < _TYPENAME:  # _LEAF, _OBJECT or _LIST, read from the source: one test
            value = read(source, attribute)
            # _one's commonest cases, inline (a call per value was a fifth of the
            # portal query's completion): a str for a String or ID, a null where
            # allowed, and an object of the planned class.
            if kind == _LEAF:
                if type(value) is payload[1] or (value is None and nullable):
                    out[key] = value
                    continue
            elif kind == _OBJECT and type(value) is payload[1]:
                value = complete(payload[0], value, is_awaitable, resolving)
                if value is NOT_PLAIN:
                    return NOT_PLAIN
                out[key] = value
                continue
            value = _one(kind, payload, nullable, value, is_awaitable, resolving)
        elif kind == _TYPENAME:
            out[key] = payload
            continue
        else:  # _RESOLVED
            if resolving is None:
                return NOT_PLAIN
            value = resolving.field(payload, source)
            if value is not NOT_PLAIN:
                value = _one(payload.kind, payload.payload, nullable, value, is_awaitable,
                             resolving)
        if value is NOT_PLAIN:
            return NOT_PLAIN
        out[key] = value
    return out


def complete_value(compiled: tuple[int, Any, bool], value: Any,
                   is_awaitable: Callable[[Any], bool],
                   resolving: Resolving | None = None) -> Any:
    """A field's whole value (what `compile_value` planned), or NOT_PLAIN. `resolving`
    calls the resolvers of a plan compiled with `resolvers_at`."""
    kind, payload, nullable = compiled
    return _one(kind, payload, nullable, value, is_awaitable, resolving)


def _one(kind: int, payload: Any, nullable: bool, value: Any,
         is_awaitable: Callable[[Any], bool], resolving: Resolving | None = None) -> Any:
    """One value of a field or list item: serialized, completed, or NOT_PLAIN."""
    if value is None:
        return None if nullable else NOT_PLAIN
    if kind == _LEAF:
        serialize, same = payload
        if type(value) is same:
            return value  # a str for String or ID, a bool for Boolean: serialized as is
        if type(value) not in _PLAIN_TYPES and (isinstance(value, Exception)
                                                or is_awaitable(value)):
            return NOT_PLAIN  # graphql-core raises the one and awaits the other
        try:
            value = serialize(value)
        except Exception:
            return NOT_PLAIN
        return NOT_PLAIN if value is None or value is Undefined else value
    if kind == _OBJECT:
        plan, cls = payload
        if type(value) is not cls and (isinstance(value, Exception) or is_awaitable(value)):
            return NOT_PLAIN
        return complete(plan, value, is_awaitable, resolving)
    if type(value) is not list and type(value) is not tuple:
        return NOT_PLAIN  # generators, async iterables, strings: graphql-core's rules
    item_kind, item_payload, item_nullable = payload
    # Items of a list of objects that are of the planned class, the commonest list,
    # are completed inline (no class for other lists: no item's type is None).
    plan, cls = item_payload if item_kind == _OBJECT else ((), None)
    out: list[Any] = []
    for item in value:
        if type(item) is cls:
            item = complete(plan, item, is_awaitable, resolving)
        else:
            item = _one(item_kind, item_payload, item_nullable, item, is_awaitable,
                        resolving)
        if item is NOT_PLAIN:
            return NOT_PLAIN
        out.append(item)
    return out


# --- planning ---------------------------------------------------------------------

class _NotPlain(Exception):
    pass


def compile_value(return_type: Any, node: FieldNode,
                  fragments: Mapping[str, FragmentDefinitionNode],
                  resolvers_at: PathKeys | None = None) -> tuple[int, Any, bool] | None:
    """The plan for completing a field of `return_type` selected by `node` (an object
    type or a list of objects, possibly non-null), or None when it is not plain.

    `resolvers_at`, the field's path (response keys with their parent type names),
    lets the plan hold fields with a synchronous resolver, at paths without a list
    between them and the field: `complete_value` calls them through a Resolving."""
    try:
        kind, payload, nullable = _compile_type(return_type, node.selection_set, fragments,
                                                resolvers_at)
    except _NotPlain:
        return None
    if kind == _LEAF:
        return None  # leaves are completed by execution.py's own fast path
    return kind, payload, nullable


def _compile_type(gtype: Any, selection_set: SelectionSetNode | None,
                  fragments: Mapping[str, FragmentDefinitionNode],
                  at: PathKeys | None = None) -> tuple[int, Any, bool]:
    nullable = not isinstance(gtype, GraphQLNonNull)
    named = gtype if nullable else gtype.of_type
    if is_leaf_type(named):
        return _LEAF, (named.serialize, _SERIALIZED_AS_IS.get(named.serialize)), nullable
    if isinstance(named, GraphQLList):
        # Items have indexes in their paths: no resolvers planned below a list.
        kind, payload, item_nullable = _compile_type(named.of_type, selection_set, fragments)
        if kind == _LIST:
            raise _NotPlain  # lists of lists: left to graphql-core
        return _LIST, (kind, payload, item_nullable), nullable
    definition = (named.extensions or {}).get(_DEFINITION) if isinstance(named, GraphQLObjectType) else None
    if definition is not None and named.is_type_of is None and selection_set:
        plan = _compile_selection(named, selection_set, fragments, at)
        return _OBJECT, (plan, definition.origin), nullable
    raise _NotPlain  # interfaces, unions, objects with is_type_of


def compile_field(object_type: GraphQLObjectType, node: FieldNode,
                  fragments: Mapping[str, FragmentDefinitionNode]) -> Entry | None:
    """The entry for one plain field of `object_type` selected by `node` (its value
    read and completed in one pass by `field_value`), or None."""
    try:
        return _compile_field(object_type, node, fragments)
    except _NotPlain:
        return None


def field_value(entry: Entry, source: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """The completed value of a `compile_field` entry on `source`, or NOT_PLAIN."""
    _key, read, attribute, kind, payload, nullable = entry
    if kind == _TYPENAME:
        return payload
    return _one(kind, payload, nullable, read(source, attribute), is_awaitable)


def _compile_selection(object_type: GraphQLObjectType, selection_set: SelectionSetNode,
                       fragments: Mapping[str, FragmentDefinitionNode],
                       at: PathKeys | None = None) -> Plan:
    entries: list[Entry] = []
    seen: set[str] = set()
    for node in _fields(object_type, selection_set, fragments, set()):
        entry = _compile_field(object_type, node, fragments, at)
        if entry[0] in seen:
            raise _NotPlain  # the same key twice: graphql-core merges the selections
        seen.add(entry[0])
        entries.append(entry)
    return tuple(entries)


def _compile_field(object_type: GraphQLObjectType, node: FieldNode,
                   fragments: Mapping[str, FragmentDefinitionNode],
                   at: PathKeys | None = None) -> Entry:
    key = node.alias.value if node.alias else node.name.value
    name = node.name.value
    if name == "__typename":
        return key, getattr, name, _TYPENAME, object_type.name, False
    field_def: GraphQLField | None = object_type.fields.get(name)
    if field_def is None or node.directives:
        raise _NotPlain
    definition = (field_def.extensions or {}).get(_DEFINITION)
    if not isinstance(definition, StrawberryField):
        raise _NotPlain
    if (definition.is_basic_field and not field_def.args and not node.arguments
            and getattr(field_def.resolve, "__name__", "") == BASIC_RESOLVER_NAME):
        kind, payload, nullable = _compile_type(field_def.type, node.selection_set, fragments)
        return key, definition.default_resolver, definition.python_name, kind, payload, nullable
    if at is None or definition.is_basic_field or definition.is_async or field_def.resolve is None:
        raise _NotPlain
    path = (*at, (key, object_type.name))
    kind, payload, nullable = _compile_type(field_def.type, node.selection_set, fragments, path)
    resolved = _Resolved(field_def, node, object_type, path, kind, payload,
                         literal_arguments(field_def, node))
    return key, getattr, name, _RESOLVED, resolved, nullable


_LITERALS = (IntValueNode, FloatValueNode, StringValueNode, BooleanValueNode, NullValueNode)
_SCALARS = (int, float, str, bool, type(None))


def literal_arguments(field_def: GraphQLField, node: FieldNode) -> dict[str, Any] | None:
    """A planned field's arguments, coerced once: {} for a field without any, and
    those the document writes all as scalar literals (no variable) when they coerce to
    immutable scalars (defaults included); None otherwise, and they are coerced per
    request."""
    if not field_def.args and not node.arguments:
        return {}
    if not all(isinstance(argument.value, _LITERALS) for argument in node.arguments or ()):
        return None
    try:
        values = get_argument_values(field_def, node, VariableValues({}, {}))
    except GraphQLError:
        return None  # each request coerces them again and reports the error
    return values if all(type(v) in _SCALARS for v in values.values()) else None


@dataclass(frozen=True, slots=True)
class _Resolved:
    """A field with a resolver in a plan: what calling it needs besides the request's."""

    field_def: GraphQLField
    node: FieldNode
    parent_type: GraphQLObjectType
    path: PathKeys
    kind: int
    payload: Any
    arguments: dict[str, Any] | None  # coerced once (literal_arguments), or None


@dataclass(frozen=True, slots=True)
class Resolving:
    """What a plan's resolvers are called with: the operation's, one per request.

    A resolver is Strawberry's own (field_def.resolve: its argument conversion, Info,
    permissions and extensions), called with the arguments and resolve info
    graphql-core's executor would give it. Anything but a plain value back (an
    exception, an awaitable) makes the completion NOT_PLAIN, and the caller completes
    the value the usual way, which calls the resolver again and reports what it
    does: planned only in queries, whose resolvers read."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    root_value: Any
    operation: OperationDefinitionNode
    variables: Any  # graphql-core's VariableValues, as the guard coerced them
    context: Any
    is_awaitable: Callable[[Any], bool]
    operation_extensions: dict[str, Any] | None

    def field(self, resolved: _Resolved, source: Any) -> Any:
        field_def, node = resolved.field_def, resolved.node
        args = resolved.arguments
        if args is None:
            try:
                args = get_argument_values(field_def, node, self.variables)
            except GraphQLError:
                return NOT_PLAIN
        path: Path | None = None
        for key, type_name in resolved.path:
            path = Path(path, key, type_name)
        info = resolve_info(
            field_name=node.name.value, field_nodes=[node], return_type=field_def.type,
            parent_type=resolved.parent_type, path=path, schema=self.schema,
            fragments=self.fragments, root_value=self.root_value, operation=self.operation,
            variable_values=self.variables.coerced, context=self.context,
            is_awaitable=self.is_awaitable, abort_signal=None, async_helpers=None,
            operation_extensions=self.operation_extensions)
        try:
            value = field_def.resolve(source, info, **args)  # type: ignore[misc]
        except Exception:
            return NOT_PLAIN
        if type(value) not in _PLAIN_TYPES and self.is_awaitable(value):
            close = getattr(value, "close", None)
            if close is not None:
                close()  # a coroutine never awaited: the usual way makes its own
            return NOT_PLAIN
        return value


def _fields(object_type: GraphQLObjectType, selection_set: SelectionSetNode,
            fragments: Mapping[str, FragmentDefinitionNode], spread: set[str]) -> list[FieldNode]:
    """The field nodes of a selection in order, through fragments on the same type."""
    found: list[FieldNode] = []
    for selection in selection_set.selections:
        if selection.directives:
            raise _NotPlain  # @skip, @include, @defer... depend on more than the text
        if isinstance(selection, FieldNode):
            found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if condition is not None and condition.name.value != object_type.name:
                raise _NotPlain
            found += _fields(object_type, selection.selection_set, fragments, spread)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if (fragment is None or name in spread or fragment.directives
                    or fragment.variable_definitions
                    or fragment.type_condition.name.value != object_type.name):
                raise _NotPlain
            found += _fields(object_type, fragment.selection_set, fragments, spread | {name})
        else:
            raise _NotPlain
    return found
