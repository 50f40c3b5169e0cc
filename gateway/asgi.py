"""The ASGI application uvicorn imports: settings from the environment.

Each uvicorn worker process imports this module, so logging is configured here too:
with --workers N the workers do not inherit the parent's logging set-up."""

import logging
import os

from gateway.app import create_app
from gateway.config import load_settings
from gateway.kit.collector import settle_after_startup
from gateway.logging import configure_logging

settings = load_settings()
configure_logging(settings.log_level, settings.log_json)
if os.environ.get("GATEWAY_ACCESS_LOG", "true").lower() == "false":
    logging.getLogger("gateway.access").disabled = True

app = create_app(settings)

# What is built by now lives as long as the worker process (kit/collector.py).
settle_after_startup()
