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
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import ASTValidationRule, DocumentNode, GraphQLError
from strawberry.extensions.base_extension import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode
    errors: tuple[GraphQLError, ...]


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


class DocumentCacheExtension(SchemaExtension):
    """Per request (give it to the schema as a factory); the cache itself is shared."""

    def __init__(self, cache: DocumentCache) -> None:
        self.cache = cache
        self.hit: Prepared | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            self.hit = self.cache.get(context.query)
        if self.hit is not None:
            context.graphql_document = self.hit.document
        else:
            context.parse_options["max_tokens"] = self.cache.max_tokens
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.hit is not None:
            context.pre_execution_errors = list(self.hit.errors)
            yield
            return
        context.validation_rules = (*context.validation_rules, *self.cache.extra_rules)
        yield
        if context.query is not None and context.graphql_document is not None:
            self.cache.put(context.query, Prepared(context.graphql_document,
                                                   tuple(context.pre_execution_errors or ())))
