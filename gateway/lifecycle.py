"""Draining before shutdown, so that a rolling restart drops no request.

uvicorn on SIGTERM closes its listening socket at once, finishes the requests it is
running and closes connections that have not yet sent a complete request. A load
balancer that still routes to the process in that instant sees refused or reset
connections. With SHUTDOWN_DRAIN_SECONDS > 0 the first SIGTERM instead marks the
process as draining (/readyz answers 503, so the load balancer takes it out of
rotation) while it keeps serving, and only after that delay hands the signal to
uvicorn's graceful shutdown. A second SIGTERM, or SIGINT, stops at once."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger("gateway.lifecycle")
draining = threading.Event()


def install_drain(seconds: float) -> None:
    """Wraps the running server's SIGTERM handler; call once the server has installed it
    (the application's startup), in the main thread of each worker process."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous):
        return
    server_handler: Callable[[int, FrameType | None], Any] = previous

    def on_sigterm(sig: int, frame: FrameType | None) -> None:
        if draining.is_set():
            server_handler(sig, frame)
            return
        draining.set()
        log.info("SIGTERM: draining for %.1fs (readiness fails), then shutting down", seconds)
        timer = threading.Timer(seconds, server_handler, (sig, frame))
        timer.daemon = True
        timer.start()

    signal.signal(signal.SIGTERM, on_sigterm)
