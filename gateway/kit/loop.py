"""Running a process's main coroutine on the event loop `gateway serve` uses."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """uvloop where it is installed (every platform but Windows), as uvicorn runs the
    gateway: its transports and callbacks are C, which the delivery worker, mostly
    waiting on sockets, feels on each attempt. Otherwise asyncio's own loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover (Windows)
        return asyncio.run(main)
    return uvloop.run(main)
