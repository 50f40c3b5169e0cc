"""The garbage collector's settings for a long-running gateway process (`serve`,
`worker`), applied once start-up has built what lives as long as the process."""

from __future__ import annotations

import gc

# Allocations between young-generation collections (CPython's default is 700). A
# request allocates a few thousand objects, nearly all freed by reference counting as
# it ends, so the default collected several times per request, each time walking what
# the requests in flight still held. At 10,000 the collector runs about once per few
# requests: about 5% less CPU per request in the benchmark (docs/performance.md).
# Cyclic garbage waits longer for it, so what the gateway drops in bulk is made
# acyclic first: documents leaving the document cache have their token lists
# unlinked (graphql/documents.py), which keeps 5,000 distinct documents within the
# memory bound of tests/graphql/test_memory.py.
YOUNG_THRESHOLD = 10_000


def settle_after_startup() -> None:
    """Freeze what start-up built (modules, the GraphQL schema, SQLAlchemy's metadata,
    routes, the worker's statements): it leaves the collector's generations, so full
    collections no longer walk it (they showed in profiles as time spent in whatever
    line allocated). Then collect young objects less often (YOUNG_THRESHOLD)."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
