"""Drawing a fixed list of Hypothesis examples, for tests that must send them through
async code in order and then check what they left behind."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st


def examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` values of `strategy`, the same on every run (the ci profile is derandomized)."""
    drawn: list[Any] = []

    @settings(max_examples=count, suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(strategy)
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn
