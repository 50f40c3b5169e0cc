"""The one module that reads GraphQL documents: which operation a request runs,
its fragments, the fields a selection holds (through fragments), and the screen a
document passes before validation.

Everything that looks at a document's shape (the guard's checks, the cost limit,
the metrics label, the single-field plan, the portal's lookahead) goes through
these functions, so that
"which operation" and "which fields" have one answer.

The screen exists because validation is the costly step before authentication:
graphql-core's OverlappingFieldsCanBeMerged rule compares every pair of fields with
the same response name in a selection (through fragments), so one 22 KB document
of `__typename` repeated 2,000 times cost over 100 ms of CPU, and a fresh comment
per request defeats the document cache. The screen walks each selection once,
fragments expanded, and refuses what no client needs before any rule runs: a
response name repeated more than MAX_REPEATED_NAME times in one selection, more
than MAX_SELECTION_FIELDS fields in one selection, more than MAX_EXPANDED_FIELDS
fields in the whole document (fragments counted where they are spread), and a
spread of an undefined fragment (graphql-core's depth rule would fail on it with
a bare KeyError). Its own work is bounded by MAX_EXPANDED_FIELDS."""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableValues,
    get_argument_values,
    get_named_type,
)
from strawberry.types.graphql import OperationType

from gateway.graphql.internals import raw_resolve_info

# Legitimate documents (the portal page, the dashboard, merchants' integrations)
# repeat a response name a handful of times at most, through fragments.
MAX_REPEATED_NAME = 8
MAX_SELECTION_FIELDS = 150
MAX_EXPANDED_FIELDS = 4_000

Fragments = Mapping[str, FragmentDefinitionNode]


@dataclass(frozen=True, slots=True)
class Chosen:
    """The operation a request runs, or why none can run (a client-facing message).
    Kept per document and operation name: its name and type are worked out here,
    once, rather than per request."""

    operation: OperationDefinitionNode | None
    problem: str | None = None
    name: str | None = field(init=False)
    kind: OperationType | None = field(init=False)  # Strawberry's, as `allowed` holds

    def __post_init__(self) -> None:
        operation = self.operation
        name = operation.name.value if operation is not None and operation.name else None
        kind = OperationType(operation.operation.value) if operation is not None else None
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "kind", kind)


def choose_operation(document: DocumentNode, operation_name: str | None) -> Chosen:
    """The spec's GetOperation: the named operation, or the only one when no name is
    given; several operations without a name is an error and runs nothing."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) == 1:
            return Chosen(operations[0])
        if not operations:
            return Chosen(None, "The document has no operation to run.")
        return Chosen(None, "The document has several operations: send operationName to "
                            "choose the one to run.")
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return Chosen(operation)
    return Chosen(None, f"The document has no operation named '{operation_name}'.")


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)}


def root_fields(operation: OperationDefinitionNode) -> list[FieldNode]:
    """The fields written directly in the operation's selection (no fragments)."""
    return [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]


def operation_label(operation: OperationDefinitionNode) -> str:
    """Names an operation for the request metrics: its type and first root field
    (`mutation createPortalLink`), plus `+` when it selects more. Only documents that
    validated get one, so the names are the schema's, never the client's."""
    names = [node.name.value for node in root_fields(operation)
             if node.name.value != "__typename"]
    label = f"{operation.operation.value} {names[0]}" if names else operation.operation.value
    if len(set(names)) > 1:
        label += "+"
    return label


def walk_fields(selection_set: SelectionSetNode | None, fragments: Fragments,
                condition: str | None = None,
                seen: frozenset[str] = frozenset()) -> Iterator[tuple[FieldNode, str | None]]:
    """The fields of one selection in document order, through inline fragments and
    fragment spreads (each fragment once per path, unknown ones skipped), each with
    the type condition of the innermost fragment around it (None: the selection's
    own type)."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection, condition
        elif isinstance(selection, InlineFragmentNode):
            inner = (selection.type_condition.name.value if selection.type_condition
                     else condition)
            yield from walk_fields(selection.selection_set, fragments, inner, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:
                continue
            yield from walk_fields(fragment.selection_set, fragments,
                                   fragment.type_condition.name.value, seen | {name})


Selected = tuple[tuple[str, dict[str, Any] | None], ...]
# selected_subfields' answers for requests without variables, keyed by the ids of the
# parent type, the names asked for and the field nodes: they depend on nothing else
# (the nodes' document holds the fragments). An entry goes when its first node is
# collected (weakref.finalize), that is, with the document's cache entry: it is
# bounded by the document cache and no id is reused meanwhile.
_SELECTED: dict[tuple[Any, ...], Selected] = {}


def selected_subfields(info: Any, names: frozenset[str]) -> Selected:
    """For the field a resolver is resolving (Strawberry's `info`), the subfields it
    selects whose names are in `names` (through aliases and fragments; @skip and
    @include not evaluated), each with its arguments coerced as execution will
    coerce them, or None when they do not coerce (the field reports that itself).
    Worked out once per document when the request has no variables (the portal
    page's query: the walk and the coercion were a few us of every request)."""
    raw = raw_resolve_info(info)
    parent = get_named_type(raw.return_type)
    variables: Any = raw.variable_values
    if isinstance(variables, dict):  # Strawberry's infos carry the coerced dict
        variables = VariableValues(sources={}, coerced=variables)
    if variables.coerced:
        return _selected(raw, parent, names, variables)
    key = (id(parent), names, *map(id, raw.field_nodes))
    found = _SELECTED.get(key)
    if found is None:
        found = _SELECTED[key] = _selected(raw, parent, names, variables)
        weakref.finalize(raw.field_nodes[0], _SELECTED.pop, key, None)
    return found


def _selected(raw: Any, parent: Any, names: frozenset[str], variables: Any) -> Selected:
    fields = getattr(parent, "fields", {})
    found: list[tuple[str, dict[str, Any] | None]] = []
    for field_node in raw.field_nodes:
        for node, _condition in walk_fields(field_node.selection_set, raw.fragments):
            name = node.name.value
            if name not in names or name not in fields:
                continue
            try:
                found.append((name, get_argument_values(fields[name], node, variables)))
            except Exception:
                found.append((name, None))
    return tuple(found)


def screen(document: DocumentNode) -> str | None:
    """Why the document is refused before validation (a message a client can act
    on), or None to validate it."""
    fragments = fragments_of(document)
    budget = MAX_EXPANDED_FIELDS
    for selection_set in _selection_sets(document):
        counts: dict[str, int] = {}
        fields = 0
        for problem, node in _flatten(selection_set, fragments):
            if problem is not None or node is None:
                return problem
            budget -= 1
            if budget < 0:
                return (f"The document selects more than {MAX_EXPANDED_FIELDS} fields "
                        "(fragments counted where they are spread). Ask for fewer.")
            fields += 1
            if fields > MAX_SELECTION_FIELDS:
                return (f"A selection holds more than {MAX_SELECTION_FIELDS} fields. "
                        "Ask for fewer.")
            key = node.alias.value if node.alias else node.name.value
            counts[key] = repeats = counts.get(key, 0) + 1
            if repeats > MAX_REPEATED_NAME:
                return (f"'{key}' is selected more than {MAX_REPEATED_NAME} times in one "
                        "selection. Select each field once.")
    return None


def _selection_sets(document: DocumentNode) -> Iterator[SelectionSetNode]:
    """Every field selection written in the document, once each (an inline
    fragment's selections belong to the selection around it)."""
    stack = [d.selection_set for d in document.definitions
             if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)]
    yield from stack
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FieldNode) and selection.selection_set is not None:
                stack.append(selection.selection_set)
                yield selection.selection_set


def _flatten(selection_set: SelectionSetNode, fragments: Fragments
             ) -> Iterator[tuple[str | None, FieldNode | None]]:
    stack: list[tuple[SelectionSetNode, frozenset[str]]] = [(selection_set, frozenset())]
    while stack:
        current, seen = stack.pop()
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                yield None, selection
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None:
                    yield f"The document spreads an undefined fragment '{name}'.", None
                    return
                if name not in seen:
                    stack.append((fragment.selection_set, seen | {name}))
