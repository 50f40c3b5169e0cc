"""Resources as the API shows them, for an event's data.object (each with customerId)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.customer.repository import CustomerRecord
from gateway.kit.time import iso_ms
from gateway.models import Customer, Subscription
from gateway.subscription.service import snapshot


def customer_object(row: Customer) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "customerId": str(row.id),
        "uid": row.uid,
        "email": row.email,
        "name": row.name,
        "clientId": row.client_id,
        "metadata": row.metadata_,
        "createdAt": iso_ms(row.created_at),
        "updatedAt": iso_ms(row.updated_at),
    }


def subscription_object(row: Subscription, customer_id: str | None) -> dict[str, Any]:
    return {**snapshot(row), "customerId": customer_id}


def portal_link_object(customer: Customer | CustomerRecord, expires_at: datetime) -> dict[str, Any]:
    """A link is a credential and is never stored: the customer and the expiry only."""
    return {"customerId": str(customer.id), "customerUid": customer.uid,
            "expiresAt": iso_ms(expires_at)}
