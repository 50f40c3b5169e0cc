"""The garbage collector's settings for a long-running gateway process (`serve`,
`worker`), applied once start-up has built what lives as long as the process."""

from __future__ import annotations

import gc


def settle_after_startup() -> None:
    """Freeze what start-up built (modules, the GraphQL schema, SQLAlchemy's metadata,
    routes, the worker's statements): it leaves the collector's generations, so full
    collections no longer walk it (they showed in profiles as time spent in whatever
    line allocated).

    The collection thresholds stay CPython's: collecting young objects every 10,000
    allocations instead of 700 saved a few percent of CPU per request in the
    benchmark, but documents evicted from the document cache (cyclic: graphql-core's
    tokens link both ways) then waited far longer for a full collection, and 5,000
    distinct documents grew the server by 52 MB instead of 18
    (tests/graphql/test_memory.py allows 30)."""
    gc.freeze()
