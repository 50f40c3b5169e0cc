"""The Lua scripts (lua/*.lua, package data), each run as one redis-py Script."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

# Prepended to the scripts that take a rate-limit decision: the GCRA, written once.
_LIBRARY = {"rate": ("gcra",), "gate": ("gcra",), "raise_to": ()}


@cache
def script_source(name: str) -> str:
    """The script's text with the parts it uses in front of it."""
    lua = files("gateway.store").joinpath("lua")
    parts = [*_LIBRARY[name], name]
    return "\n".join(lua.joinpath(f"{part}.lua").read_text(encoding="utf-8") for part in parts)

