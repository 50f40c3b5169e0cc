"""The gateway's execution context (serial root fields, plain leaves and plain
selections completed in one pass) answers exactly as Strawberry's own does: the same
data and the same errors, paths and locations, for every shape of selection and for
values off the common path (nulls, exceptions, awaitables, bad scalars, iterables)."""

from __future__ import annotations

import asyncio
import enum
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig

from gateway.graphql.execution import SerialRootExecutionContext
from gateway.graphql.scalars import DateTime


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leaf:
    name: str
    count: int
    ratio: float
    flag: bool
    colour: Colour
    at: datetime
    meta: JSON
    note: str | None


@strawberry.type
class Branch:
    label: str
    leaf: Leaf
    maybe_leaf: Leaf | None
    leaves: list[Leaf]
    maybe_leaves: list[Leaf | None] | None
    tags: list[str]
    scores: list[int | None]

    @strawberry.field
    def computed(self) -> str:
        return self.label.upper()

    @strawberry.field
    async def later(self) -> Leaf:
        await asyncio.sleep(0)
        return self.leaf


def leaf(n: int, **overrides: Any) -> Leaf:
    values: dict[str, Any] = {
        "name": f"leaf {n}", "count": n, "ratio": n / 4, "flag": n % 2 == 0,
        "colour": Colour.RED if n % 2 else Colour.BLUE,
        "at": datetime(2026, 1, 1, 12, n % 60, tzinfo=UTC), "meta": {"n": n, "list": [n]},
        "note": None if n % 3 else f"note {n}",
    }
    values.update(overrides)
    return Leaf(**values)


def branch(**overrides: Any) -> Branch:
    values: dict[str, Any] = {
        "label": "b", "leaf": leaf(1), "maybe_leaf": None, "leaves": [leaf(i) for i in range(5)],
        "maybe_leaves": [leaf(7), None], "tags": ["x", "y"], "scores": [1, None, 3],
    }
    values.update(overrides)
    return Branch(**values)


class Later:
    """An awaitable value (made into a coroutine only when awaited, so an unselected
    field leaves nothing unawaited behind)."""

    def __await__(self) -> Any:
        return asyncio.sleep(0, "awaited").__await__()


def _generator() -> Any:
    yield leaf(8)
    yield leaf(9)


class Boom(Exception):
    pass


SOURCES: dict[str, Any] = {
    "good": lambda: branch(),
    "null_in_non_null_leaf": lambda: branch(leaf=leaf(1, name=None)),
    "null_in_non_null_object": lambda: branch(leaf=None),
    "null_item_in_non_null_list": lambda: branch(leaves=[leaf(1), None]),
    "null_item_in_nullable_list": lambda: branch(maybe_leaves=[None, leaf(2), None]),
    "null_nullable_list": lambda: branch(maybe_leaves=None),
    "exception_value": lambda: branch(leaf=leaf(1, count=Boom("count failed"))),
    "awaitable_value": lambda: branch(leaf=leaf(1, name=Later())),
    "bad_scalar": lambda: branch(leaf=leaf(1, count="not a number")),
    "bad_enum": lambda: branch(leaf=leaf(1, colour="green")),
    "generator_list": lambda: branch(leaves=_generator()),
    "tuple_list": lambda: branch(leaves=(leaf(3), leaf(4))),
    "string_as_list": lambda: branch(tags="xy"),
    "null_in_leaf_list": lambda: branch(tags=["x", None]),
    "empty_lists": lambda: branch(leaves=[], maybe_leaves=[], tags=[], scores=[]),
}


@strawberry.type
class Query:
    @strawberry.field
    def branch(self, kind: str) -> Branch:
        return SOURCES[kind]()

    @strawberry.field
    def maybe_branch(self, kind: str) -> Branch | None:
        return SOURCES[kind]()

    @strawberry.field
    def branches(self, kind: str) -> list[Branch]:
        return [SOURCES[kind](), SOURCES["good"]()]


def schema(execution_context_class: Any) -> strawberry.Schema:
    return strawberry.Schema(query=Query, config=StrawberryConfig(scalar_map={datetime: DateTime}),
                             execution_context_class=execution_context_class)


GATEWAY = schema(SerialRootExecutionContext)
REFERENCE = schema(None)

LEAF = "name count ratio flag colour at meta note"
DOCUMENTS: dict[str, str] = {
    "plain": f"query($k: String!) {{ branch(kind: $k) {{ label leaf {{ {LEAF} }} maybeLeaf {{ name }} "
             f"leaves {{ {LEAF} }} maybeLeaves {{ name count }} tags scores }} }}",
    "nullable root": f"query($k: String!) {{ maybeBranch(kind: $k) {{ leaf {{ {LEAF} }} "
                     "leaves { name } tags }} }",
    "list root": "query($k: String!) { branches(kind: $k) { label leaf { name count colour } "
                 "leaves { count at } maybeLeaves { note } tags } }",
    "aliases and typename": "query($k: String!) { b: branch(kind: $k) { __typename l: leaf { "
                            "t: __typename n: name c: count } all: leaves { __typename name } } }",
    "fragments": "query($k: String!) { branch(kind: $k) { ...B leaves { ... on Leaf { name } "
                 "...L } } } fragment B on Branch { label leaf { ...L } } "
                 "fragment L on Leaf { count colour meta }",
    "same key twice": "query($k: String!) { branch(kind: $k) { leaf { name } leaf { count } } }",
    "directives": "query($k: String!, $on: Boolean!) { branch(kind: $k) { leaf { name "
                  "count @include(if: $on) colour @skip(if: $on) } leaves @include(if: $on) "
                  "{ name } } }",
    "resolver fields mixed in": "query($k: String!) { branch(kind: $k) { computed later { "
                                f"{LEAF} }} leaf {{ name }} leaves {{ count }} }} }}",
}


async def run(target: strawberry.Schema, document: str, kind: str, on: bool) -> dict[str, Any]:
    variables: dict[str, Any] = {"k": kind}
    if "$on" in document:
        variables["on"] = on
    result = await target.execute(document, variable_values=variables)
    return {"data": result.data,
            "errors": [error.formatted for error in result.errors or []]}


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
@pytest.mark.parametrize("kind", sorted(SOURCES))
async def test_answers_as_strawberry_does(document: str, kind: str) -> None:
    for on in (True, False):
        for _ in range(2):  # the second run uses the plans the first one made
            expected = await run(REFERENCE, DOCUMENTS[document], kind, on)
            assert await run(GATEWAY, DOCUMENTS[document], kind, on) == expected


async def test_the_reference_sees_the_cases_it_is_meant_to() -> None:
    """The cases above are not all the happy path: the reference reports errors for
    the bad values, so the comparison covers error reporting too."""
    good = await run(REFERENCE, DOCUMENTS["plain"], "good", True)
    assert good["errors"] == []
    assert good["data"]["branch"]["leaves"][4]["name"] == "leaf 4"
    for kind in ("null_in_non_null_leaf", "exception_value", "bad_scalar", "bad_enum",
                 "string_as_list", "null_item_in_non_null_list"):
        assert (await run(REFERENCE, DOCUMENTS["plain"], kind, True))["errors"], kind
    awaited = await run(GATEWAY, DOCUMENTS["plain"], "awaitable_value", True)
    assert awaited["data"]["branch"]["leaf"]["name"] == "awaited"
