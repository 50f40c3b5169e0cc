"""The private names of Strawberry and graphql-core the gateway relies on are the
ones gateway/graphql/internals.py lists, and they still mean what they meant in the
versions it was checked against. On an upgrade that changes one, this fails and
says which; nothing else in the gateway imports a private name of either library."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.graphql import internals
from gateway.graphql.schema import create_schema

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
PRIVATE_IMPORT = re.compile(r"^\s*from (strawberry|graphql)[\w.]* import [^#\n]*\b_[a-z]\w*",
                            re.MULTILINE)
PRIVATE_ATTRIBUTE = re.compile(r"\._(schema|raw_info|get_\w+|create_execution_context)\b")


def test_the_installed_libraries_have_what_the_gateway_relies_on() -> None:
    problems = internals.problems(create_schema())

    assert problems == [], (
        "An upgrade changed private names the GraphQL fast path relies on "
        "(gateway/graphql/internals.py); adapt the code, or run with "
        "GRAPHQL_FAST_PATH=false meanwhile:\n" + "\n".join(problems))


def test_no_module_but_internals_touches_a_private_name() -> None:
    offenders = []
    for path in GATEWAY.rglob("*.py"):
        if path == GATEWAY / "graphql" / "internals.py":
            continue
        text = path.read_text()
        offenders += [f"{path.relative_to(GATEWAY)}: {m.group(0).strip()}"
                      for m in (*PRIVATE_IMPORT.finditer(text), *PRIVATE_ATTRIBUTE.finditer(text))]

    assert offenders == []
