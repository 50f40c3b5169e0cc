"""Resolvers called directly, for fields that need none of Strawberry's wrapping.

For every field with a resolver, Strawberry's wrapper converts the arguments
(`convert_arguments`: a name lookup and a type dispatch per argument), builds its
Info, runs the field's extensions and exception handlers, then calls the function.
For a synchronous resolver that takes only `self` and arguments of the built-in
scalar types (Int, Float, String, Boolean, ID, or optional ones), with no extension
and no exception handler, all of that returns the values unchanged: the conversion
of such a scalar is the value itself. `install` gives those fields a resolver that
maps the GraphQL argument names to the function's and calls it. In the portal query
that is `payments(first, after)`: Strawberry's wrapper cost it more than the
resolver's own work in the profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

_DEFINITION = "strawberry-definition"
_SCALARS = (int, float, str, bool)


def install(schema: Any) -> list[str]:
    """Direct resolvers for the fields that qualify; returns their "Type.field" names."""
    installed: list[str] = []
    for gtype in schema._schema.type_map.values():
        if not isinstance(gtype, GraphQLObjectType) or gtype.name.startswith("__"):
            continue
        for name, field_def in gtype.fields.items():
            definition = (field_def.extensions or {}).get(_DEFINITION)
            direct = _direct(schema, definition) if isinstance(definition, StrawberryField) else None
            if direct is not None:
                field_def.resolve = direct
                installed.append(f"{gtype.name}.{name}")
    return installed


def _direct(schema: Any, field: StrawberryField) -> Callable[..., Any] | None:
    resolver = field.base_resolver
    if (resolver is None or field.is_async or field.extensions
            or schema.schema_converter._get_field_exception_handlers(field)
            or resolver.self_parameter is None or resolver.info_parameter is not None
            or resolver.root_parameter is not None or resolver.parent_parameter is not None):
        return None
    names: dict[str, str] = {}
    for argument in field.arguments:
        kind = argument.type
        if isinstance(kind, StrawberryOptional) and type(kind) is StrawberryOptional:
            kind = kind.of_type
        if not (isinstance(kind, type) and kind in _SCALARS) and not _is_id(kind):
            return None
        names[schema.config.name_converter.from_argument(argument)] = argument.python_name
    function: Callable[..., Any] = resolver.wrapped_func  # type: ignore[assignment]

    def resolve(source: Any, _info: Any, **kwargs: Any) -> Any:
        return function(source, **{names[key]: value for key, value in kwargs.items()})

    resolve.gateway_direct = True  # type: ignore[attr-defined] # completion.py plans these
    return resolve


def _is_id(kind: Any) -> bool:
    from strawberry import ID

    return kind is ID
