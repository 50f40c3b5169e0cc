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
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    is_leaf_type,
)
from strawberry.types.field import StrawberryField

from gateway.graphql.internals import BASIC_RESOLVER_NAME

NOT_PLAIN: Any = object()

_DEFINITION = "strawberry-definition"
_LEAF, _OBJECT, _LIST, _TYPENAME = range(4)

# An entry: (response key, read, attribute name, kind, payload, nullable), where
# read(source, attribute) is the field's default resolver; payload is the scalar's
# serialize function with the type it returns unchanged, if any (_LEAF), the object's
# plan with its Python class (_OBJECT), (item kind, item payload, item nullable)
# (_LIST) or the type name (_TYPENAME).
Entry = tuple[str, Callable[[Any, str], Any], str, int, Any, bool]
Plan = tuple[Entry, ...]

# Values that are never awaitable nor exceptions: the common case skips both checks.
_PLAIN_TYPES: frozenset[type] = frozenset({str, int, float, bool, datetime, date, Decimal,
                                           uuid.UUID, dict, list, tuple})
# Scalars whose serialize returns a value of this exact type unchanged.
_SERIALIZED_AS_IS: dict[Callable[[Any], Any], type] = {
    GraphQLString.serialize: str, GraphQLID.serialize: str, GraphQLBoolean.serialize: bool}


def complete(plan: Plan, source: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """The selection's response dict for `source`, or NOT_PLAIN."""
    out: dict[str, Any] = {}
    for key, read, attribute, kind, payload, nullable in plan:
        if kind == _TYPENAME:
            out[key] = payload
            continue
        value = _one(kind, payload, nullable, read(source, attribute), is_awaitable)
        if value is NOT_PLAIN:
            return NOT_PLAIN
        out[key] = value
    return out


def complete_value(compiled: tuple[int, Any, bool], value: Any,
                   is_awaitable: Callable[[Any], bool]) -> Any:
    """A field's whole value (what `compile_value` planned), or NOT_PLAIN."""
    kind, payload, nullable = compiled
    return _one(kind, payload, nullable, value, is_awaitable)


def _one(kind: int, payload: Any, nullable: bool, value: Any,
         is_awaitable: Callable[[Any], bool]) -> Any:
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
        return complete(plan, value, is_awaitable)
    if type(value) is not list and type(value) is not tuple:
        return NOT_PLAIN  # generators, async iterables, strings: graphql-core's rules
    item_kind, item_payload, item_nullable = payload
    out: list[Any] = []
    for item in value:
        item = _one(item_kind, item_payload, item_nullable, item, is_awaitable)
        if item is NOT_PLAIN:
            return NOT_PLAIN
        out.append(item)
    return out


# --- planning ---------------------------------------------------------------------

class _NotPlain(Exception):
    pass


def compile_value(return_type: Any, node: FieldNode,
                  fragments: Mapping[str, FragmentDefinitionNode]) -> tuple[int, Any, bool] | None:
    """The plan for completing a field of `return_type` selected by `node` (an object
    type or a list of objects, possibly non-null), or None when it is not plain."""
    try:
        kind, payload, nullable = _compile_type(return_type, node.selection_set, fragments)
    except _NotPlain:
        return None
    if kind == _LEAF:
        return None  # leaves are completed by execution.py's own fast path
    return kind, payload, nullable


def _compile_type(gtype: Any, selection_set: SelectionSetNode | None,
                  fragments: Mapping[str, FragmentDefinitionNode]) -> tuple[int, Any, bool]:
    nullable = not isinstance(gtype, GraphQLNonNull)
    named = gtype if nullable else gtype.of_type
    if is_leaf_type(named):
        return _LEAF, (named.serialize, _SERIALIZED_AS_IS.get(named.serialize)), nullable
    if isinstance(named, GraphQLList):
        kind, payload, item_nullable = _compile_type(named.of_type, selection_set, fragments)
        if kind == _LIST:
            raise _NotPlain  # lists of lists: left to graphql-core
        return _LIST, (kind, payload, item_nullable), nullable
    definition = (named.extensions or {}).get(_DEFINITION) if isinstance(named, GraphQLObjectType) else None
    if definition is not None and named.is_type_of is None and selection_set:
        plan = _compile_selection(named, selection_set, fragments)
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
                       fragments: Mapping[str, FragmentDefinitionNode]) -> Plan:
    entries: list[Entry] = []
    seen: set[str] = set()
    for node in _fields(object_type, selection_set, fragments, set()):
        entry = _compile_field(object_type, node, fragments)
        if entry[0] in seen:
            raise _NotPlain  # the same key twice: graphql-core merges the selections
        seen.add(entry[0])
        entries.append(entry)
    return tuple(entries)


def _compile_field(object_type: GraphQLObjectType, node: FieldNode,
                   fragments: Mapping[str, FragmentDefinitionNode]) -> Entry:
    key = node.alias.value if node.alias else node.name.value
    name = node.name.value
    if name == "__typename":
        return key, getattr, name, _TYPENAME, object_type.name, False
    field_def: GraphQLField | None = object_type.fields.get(name)
    if field_def is None or node.directives:
        raise _NotPlain
    if field_def.args or node.arguments:
        raise _NotPlain
    definition = (field_def.extensions or {}).get(_DEFINITION)
    if not (isinstance(definition, StrawberryField) and definition.is_basic_field
            and getattr(field_def.resolve, "__name__", "") == BASIC_RESOLVER_NAME):
        raise _NotPlain
    kind, payload, nullable = _compile_type(field_def.type, node.selection_set, fragments)
    return key, definition.default_resolver, definition.python_name, kind, payload, nullable


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
