"""Text with a NUL character (U+0000) is refused at the GraphQL boundary, before
anything runs.

PostgreSQL's text types cannot hold U+0000, so a NUL in any string that reaches a
statement (an email, a client id, a name, a uid, a JSON key) made the statement fail
in the driver: INTERNAL, and a logged statement. SQLite stores it, so the same input
behaved differently per database. No argument of the API has a use for it, so every
string the client sends is checked here, in one place, rather than by each
argument's parser: string literals when the document is validated (the verdict is
cached with the document), variables (values and object keys, at any depth) before
execution. Either is BAD_REQUEST with a message that says what to remove."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, StringValueNode, ValidationRule

from gateway.kit.validate import NUL, holds_nul, nul_refusal


def _refusal(where: str, nodes: list[StringValueNode] | None = None) -> GraphQLError:
    error = nul_refusal(where)
    return GraphQLError(error.message, nodes, original_error=error)


def refuse_nul_variables(variables: dict[str, Any] | None) -> GraphQLError | None:
    """The error for the first variable holding a NUL, or None."""
    for name, value in (variables or {}).items():
        if holds_nul(value):
            return _refusal(f"Variable ${name}")
    return None


class NoNulInStrings(ValidationRule):
    """Refuses a string literal (block strings included) that holds a NUL."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if NUL in node.value:
            self.report_error(_refusal("A string in the document", [node]))
