"""Parse and validate each distinct document once.

Strawberry's ParserCache and ValidationCache key validation on the rule list, and
QueryDepthLimiter / MaxAliasesLimiter / AddValidationRules build new rule classes
for every request: the key never repeats, so every request was validated again
(half the CPU time of createPortalLink in the profile). Here the rule list is built
once, with the same limits, and one bounded LRU maps a document's text to its parsed
AST and its validation errors. Validation depends only on the schema, the document
and the rules, so a cached verdict is the verdict; documents that do not parse are
not cached (Strawberry parses them again and reports the error as before)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, parse, specified_rules
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode
    errors: tuple[GraphQLError, ...]
    # Per operation name, what does not depend on the variables, computed on first
    # use (graphql/schema.py): the metrics label, and the cost when no variable
    # feeds it (graphql/cost.py).
    labels: dict[str | None, str] = field(default_factory=dict)
    # Per operation name asked for: the operation's name and type (None: unknown).
    operations: dict[str | None, Any] = field(default_factory=dict)
    costs: dict[str | None, Any] = field(default_factory=dict)
    # The root field checked before execution (GatewaySchema.execute), or None.
    prechecks: dict[str | None, Any] = field(default_factory=dict)
    # The single-field plan (graphql/single.py), or None for any other shape.
    singles: dict[str | None, Any] = field(default_factory=dict)


class DocumentCache:
    """Shared by every request of one schema; bounded so unique texts cannot grow memory."""

    def __init__(self, *, maxsize: int, max_tokens: int, max_depth: int, max_aliases: int,
                 extra_rules: tuple[type[ASTValidationRule], ...] = ()) -> None:
        self.maxsize = maxsize
        self.max_tokens = max_tokens
        self.extra_rules = (max_depth_rule(max_depth, None, None),
                            max_aliases_rule(max_aliases), *extra_rules)
        self._entries: OrderedDict[str, Prepared] = OrderedDict()

    def get(self, query: str) -> Prepared | None:
        prepared = self._entries.get(query)
        if prepared is not None:
            self._entries.move_to_end(query)
        return prepared

    def put(self, query: str, prepared: Prepared) -> None:
        self._entries[query] = prepared
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def prepare(self, query: str, schema: Any) -> Prepared | None:
        """The document and its verdict, parsed and validated on a miss; None for a
        text that does not parse."""
        prepared = self.get(query)
        if prepared is None:
            try:
                document = parse(query, max_tokens=self.max_tokens)
            except GraphQLError:
                return None
            rules = (*specified_rules, *self.extra_rules)  # Strawberry's default set, plus ours
            prepared = Prepared(document, tuple(validate_document(schema._schema,
                                                                  document, rules)))
            self.put(query, prepared)
        return prepared

    def apply(self, context: ExecutionContext) -> None:
        """Give a new execution context its document and verdict, so Strawberry skips
        both steps; parse and validate on a miss. A text that does not parse is left
        to Strawberry, which parses it again (same token limit) and reports the error."""
        query = context.query
        if query is None:
            return
        prepared = self.prepare(query, context.schema)
        if prepared is None:
            context.parse_options["max_tokens"] = self.max_tokens
            return
        context.graphql_document = prepared.document
        context.pre_execution_errors = list(prepared.errors)
