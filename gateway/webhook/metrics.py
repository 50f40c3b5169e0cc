"""Delivery metrics, served with the gateway's at /metrics (inline worker) or by
`gateway worker --metrics-port` (its own process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OUTCOMES = ("delivered", "retrying", "failed")

DELIVERIES = Counter(
    "gateway_webhook_deliveries_total",
    "Webhook delivery attempts by outcome: delivered, retrying (failed, retry scheduled), "
    "failed (failed, given up).", ["outcome"])
LATENCY = Histogram(
    "gateway_webhook_delivery_duration_seconds", "One delivery attempt, connect to answer.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0))
BACKLOG = Gauge("gateway_webhook_backlog", "Deliveries pending (due or scheduled).",
                multiprocess_mode="max")
OLDEST = Gauge("gateway_webhook_oldest_pending_seconds",
               "How long the oldest pending delivery has been due.", multiprocess_mode="max")

_outcomes = {outcome: DELIVERIES.labels(outcome) for outcome in OUTCOMES}


def record_attempt(outcome: str, seconds: float) -> None:
    _outcomes[outcome].inc()
    LATENCY.observe(seconds)
