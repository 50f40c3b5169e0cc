"""Parse, screen and validate each distinct document once.

Strawberry's ParserCache and ValidationCache key validation on the rule list, and
QueryDepthLimiter / MaxAliasesLimiter / AddValidationRules build new rule classes
for every request: the key never repeats, so every request was validated again
(half the CPU time of createPortalLink in the profile). Here the rule list is built
once, with the same limits, and one bounded LRU maps a document's text to its parsed
AST and its verdict. Validation depends only on the schema, the document and the
rules, so a cached verdict is the verdict.

Before validation, the document passes the token limit (while parsing) and the
screen (analysis.screen): both cost little and bound what validation can be made
to do. A document either of them refuses is `refused`, which the guard charges to
the client's failure budget. Texts that do not parse are not cached; the rest are, and the cache
is bounded by entries and by weight (the text and its parsed tokens), so every
entry's plans (`Prepared.plans`, the execution plans of execution.py that hold the
document's nodes) leave with it."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    Source,
    Token,
    parse,
    specified_rules,
    validate,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule

from gateway.errors import BadRequest
from gateway.graphql.analysis import screen

# graphql-core's message when parsing stops at the token limit (graphql/language/parser.py).
_OVER_LIMIT = "Syntax Error: Document contains more than"
# A parsed document keeps every token (a linked list of Token objects, ~200 bytes
# each with its node) besides the text; measured on 1,000-token documents.
TOKEN_WEIGHT = 400
MAX_CACHE_WEIGHT = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    # Refused by a limit before validation (tokens, the screen): the guard charges it.
    refused: bool = False
    weight: int = 0
    # Per operation name, what does not depend on the variables, computed on first
    # use by the guard: the chosen operation, the metrics label, the cost when no
    # variable feeds it (cost.py), the root field checked before execution.
    operations: dict[str | None, Any] = field(default_factory=dict)
    labels: dict[str | None, str] = field(default_factory=dict)
    costs: dict[str | None, Any] = field(default_factory=dict)
    prechecks: dict[str | None, Any] = field(default_factory=dict)
    # The fast path's plans (single.py, execution.py): they hold this document's
    # nodes, so they live exactly as long as this entry.
    singles: dict[str | None, Any] = field(default_factory=dict)
    plans: dict[Any, Any] = field(default_factory=dict)


class DocumentCache:
    """Shared by every request of one schema; bounded so unique texts cannot grow memory."""

    def __init__(self, *, maxsize: int, max_tokens: int, max_depth: int, max_aliases: int,
                 extra_rules: tuple[type[ASTValidationRule], ...] = (),
                 max_weight: int = MAX_CACHE_WEIGHT, hide_suggestions: bool = False) -> None:
        self.maxsize = maxsize
        self.hide_suggestions = hide_suggestions
        self.max_weight = max_weight
        self.max_tokens = max_tokens
        self.rules = (*specified_rules, max_depth_rule(max_depth, None, None),
                      max_aliases_rule(max_aliases), *extra_rules)
        self._entries: OrderedDict[str, Prepared] = OrderedDict()
        self._weight = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> Prepared | None:
        prepared = self._entries.get(query)
        if prepared is not None:
            self._entries.move_to_end(query)
        return prepared

    def put(self, query: str, prepared: Prepared) -> None:
        old = self._entries.pop(query, None)
        if old is not None:
            self._weight -= old.weight
            _unlink_tokens(old.document)
        self._entries[query] = prepared
        self._weight += prepared.weight
        while len(self._entries) > self.maxsize or (
                self._weight > self.max_weight and len(self._entries) > 1):
            _, dropped = self._entries.popitem(last=False)
            self._weight -= dropped.weight
            _unlink_tokens(dropped.document)

    def prepare(self, query: str, schema: GraphQLSchema) -> Prepared:
        """The document and its verdict: parsed, screened and validated on a miss."""
        prepared = self.get(query)
        if prepared is not None:
            return prepared
        if len(query) > self.max_tokens and _tokens_at_least(query) > self.max_tokens:
            # Refused without the parser, which costs ~6 us per token in Python.
            error = GraphQLSyntaxError(Source(query), 0, f"Document contains more than "
                                       f"{self.max_tokens} tokens. Parsing aborted.")
            return Prepared(None, (error,), refused=True)
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLSyntaxError as error:
            # Not cached: a text that does not parse costs its parse each time, and
            # the token limit stops that parse early.
            return Prepared(None, (error,), refused=error.message.startswith(_OVER_LIMIT))
        weight = len(query) + TOKEN_WEIGHT * _tokens(document)
        problem = screen(document)
        if problem is not None:
            refusal = GraphQLError(problem, original_error=BadRequest(problem))
            prepared = Prepared(document, (refusal,), refused=True, weight=weight)
        else:
            prepared = Prepared(document, tuple(validate(
                schema, document, self.rules, hide_suggestions=self.hide_suggestions)),
                                weight=weight)
        self.put(query, prepared)
        return prepared


# Strings and comments, whose insides are not tokens; then what is surely a token.
_NOT_TOKENS = re.compile(r'"""(?:\\"""|[^"]|"(?!""))*"""|"(?:\\.|[^"\\\n\r])*"|#[^\n\r]*')
_SURE_TOKENS = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|[_A-Za-z][_0-9A-Za-z]*"
                          r"|\.\.\.|[!$&()\[\]{}:=@|]")


def _tokens_at_least(query: str) -> int:
    """A lower bound of the tokens graphql-core's lexer would count (every match here
    is at least one of its tokens), computed by the regular expression engine: a text
    over the limit by this count is over it for the parser too."""
    return len(_SURE_TOKENS.findall(_NOT_TOKENS.sub(" ", query)))


def _unlink_tokens(document: DocumentNode | None) -> None:
    """Break a dropped document's token list into single tokens. graphql-core links
    its tokens both ways (prev and next), so a parsed document is cyclic and, left
    as it is, waits for a full collection after the cache lets it go (with the
    collector's young threshold raised, far longer: kit/collector.py). Unlinked, it is
    freed by reference counting as soon as nothing uses it. Only the parser and the
    lexer follow these links; a request still executing the document reads its
    nodes and their locations (start, end, source), which stay."""
    loc = document.loc if document is not None else None
    token: Token | None = loc.start_token if loc is not None else None
    while token is not None:
        following = token.next
        token.prev = token.next = None
        token = following


def _tokens(document: DocumentNode) -> int:
    """The number of tokens the parsed document keeps (its location's token list)."""
    loc = document.loc
    if loc is None:
        return 0
    count = 0
    token: Token | None = loc.start_token
    while token is not None:
        count += 1
        token = token.next
    return count
