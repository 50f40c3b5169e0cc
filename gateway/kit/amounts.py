from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TypedDict

from gateway.errors import BadRequest
from gateway.kit.ids import new_uuid
from gateway.kit.match import customer_match
from gateway.kit.money import InvalidAmount, parse_amount, parse_currency


def amount_and_currency(amount: str, currency: str) -> tuple[Decimal, str]:
    try:
        code = parse_currency(currency)
        return parse_amount(amount, code), code
    except InvalidAmount as exc:
        raise BadRequest(str(exc)) from None


class BilledColumns(TypedDict):
    """What a new payment, payment link or subscription is billed by (the columns of
    models/billed.py), validated."""

    id: uuid.UUID
    company_id: str
    email: str | None
    client_id: str | None
    amount: Decimal
    currency: str


def billed_columns(
    company_id: str, amount: str, currency: str, email: str | None, client_id: str | None,
    *, client_field: str = "a clientId", record: str = "record",
) -> BilledColumns:
    """A new row's id and its billing checked in the order a client sees refusals: the
    customer it reaches (customer_match, which `client_field` and `record` word), then
    the amount in its currency."""
    match_email, match_client = customer_match(email, client_id, client_field=client_field,
                                               record=record)
    value, code = amount_and_currency(amount, currency)
    return BilledColumns(id=new_uuid(), company_id=company_id, email=match_email,
                         client_id=match_client, amount=value, currency=code)
