from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_

from gateway.errors import BadRequest
from gateway.kit import validate


def customer_match(
    email: str | None, client_id: str | None, *, client_field: str = "a clientId",
    record: str = "record",
) -> tuple[str | None, str | None]:
    """Records reach a customer's portal by email or client id; at least one is needed.
    `client_field` and `record` name them in the refusal as the caller's input does."""
    clean_email = validate.email(email) if email else None
    clean_client = validate.client_id(client_id)
    if clean_email is None and clean_client is None:
        raise BadRequest(f"Give an email or {client_field} so the {record} reaches its customer.")
    return clean_email, clean_client


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """What ties a payment, payment link or subscription to a customer: the same
    email, or the same client id when the customer has one."""

    email: str
    client_id: str | None

    def clause(self, model: Any) -> ColumnElement[bool]:
        """`model` has `email` and `client_id` columns; the caller adds the company scope."""
        by_email: ColumnElement[bool] = model.email == self.email
        if self.client_id is None:
            return by_email
        return or_(by_email, model.client_id == self.client_id)
