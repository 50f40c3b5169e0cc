"""The gateway's execution (serial root fields, plain fields and selections
completed in one pass, single-field operations run without graphql-core's executor)
answers exactly as Strawberry's own does: the same data and the same errors, paths
and locations, for every shape of selection and for values off the common path
(nulls, exceptions, awaitables, bad scalars, iterables, failing resolvers, variables
that do not coerce)."""

from __future__ import annotations

import asyncio
import enum
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig

from gateway.graphql.execution import FastExecutionContext, SerialRootExecutionContext
from gateway.graphql.scalars import DateTime
from gateway.graphql.schema import GatewaySchema, PreparedDocuments


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
    grid: list[list[int | None]]
    shelves: list[list[Leaf]] | None

    @strawberry.field
    def computed(self) -> str:
        return self.label.upper()

    @strawberry.field
    def pick(self, n: int = 1, prefix: str | None = None) -> list[Leaf]:
        if n < 0:
            raise ValueError("n must not be negative")
        return [item for item in self.leaves if item.name.startswith(prefix or "")][:n]

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
        "grid": [[1, None], [], [3]], "shelves": [[leaf(1), leaf(2)], []],
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
    "bad_list_of_lists": lambda: branch(grid=[[1], None], shelves=[[leaf(1), None]]),
    "none": lambda: None,
    "raises": lambda: (_ for _ in ()).throw(Boom("resolver failed")),
    "graphql_error": lambda: (_ for _ in ()).throw(GraphQLError("refused here")),
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


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def act(self, kind: str, times: int = 1) -> Branch:
        await asyncio.sleep(0)
        return SOURCES[kind]()

    @strawberry.mutation
    def maybe_act(self, kind: str) -> Branch | None:
        return SOURCES[kind]()


def schema(execution_context_class: Any, cls: type[strawberry.Schema] = strawberry.Schema,
           extensions: list[Any] | None = None) -> strawberry.Schema:
    return cls(query=Query, mutation=Mutation,
               config=StrawberryConfig(scalar_map={datetime: DateTime}),
               execution_context_class=execution_context_class, extensions=extensions or [])


GATEWAY = schema(FastExecutionContext)
REFERENCE = schema(None)
# As the product's, GRAPHQL_FAST_PATH on: prepared documents, the guard, single-field
# operations without graphql-core's executor (graphql/single.py).
PREPARED = schema(SerialRootExecutionContext, GatewaySchema)
# GRAPHQL_FAST_PATH off: the guard, then stock Strawberry execution.
STOCK = schema(SerialRootExecutionContext, GatewaySchema, [PreparedDocuments])
STOCK.fast_path = False  # type: ignore[attr-defined]

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
    "mutation": f"mutation($k: String!) {{ act(kind: $k) {{ label leaf {{ {LEAF} }} "
                "maybeLeaves { name } tags scores } }",
    "aliased mutation": "mutation M($k: String!) { done: act(kind: $k, times: 2) { "
                        "label leaves { count } } }",
    "nullable mutation": "mutation($k: String!) { maybeAct(kind: $k) { label leaf { name count } "
                         "maybeLeaf { name } } }",
    "resolver with arguments": "query($k: String!) { branch(kind: $k) { a: pick { name } "
                               "b: pick(n: 3, prefix: \"leaf\") { count } c: pick(n: -1) { name } "
                               "d: pick(n: 2, prefix: null) { at } } }",
    "lists of lists": "query($k: String!) { branch(kind: $k) { grid shelves { name count } "
                      "leaf { name } } }",
    "directives on fragments": "query($k: String!, $on: Boolean!) { branch(kind: $k) { "
                               "...B @include(if: $on) ... on Branch @skip(if: $on) { tags } "
                               "leaf { ...L @skip(if: $on) name } } } "
                               "fragment B on Branch { label } fragment L on Leaf { count }",
    "two mutations": "mutation($k: String!) { a: act(kind: $k) { label } "
                     "b: maybeAct(kind: $k) { tags } }",
}


async def run(target: strawberry.Schema, document: str, kind: Any, on: bool) -> dict[str, Any]:
    variables: dict[str, Any] = {"k": kind}
    if "$on" in document:
        variables["on"] = on
    result = await target.execute(document, variable_values=variables)
    return {"data": result.data,
            "errors": [error.formatted for error in result.errors or []]}


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
@pytest.mark.parametrize("kind", [*sorted(SOURCES), 5])  # 5: a variable that does not coerce
async def test_answers_as_strawberry_does(document: str, kind: Any) -> None:
    for on in (True, False):
        for _ in range(2):  # the second run uses the plans the first one made
            expected = await run(REFERENCE, DOCUMENTS[document], kind, on)
            assert await run(GATEWAY, DOCUMENTS[document], kind, on) == expected
            assert await run(PREPARED, DOCUMENTS[document], kind, on) == expected
            assert await run(STOCK, DOCUMENTS[document], kind, on) == expected


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
