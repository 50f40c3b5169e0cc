from __future__ import annotations

from decimal import Decimal

from gateway.errors import BadRequest
from gateway.kit.money import InvalidAmount, parse_amount, parse_currency


def amount_and_currency(amount: str, currency: str) -> tuple[Decimal, str]:
    try:
        code = parse_currency(currency)
        return parse_amount(amount, code), code
    except InvalidAmount as exc:
        raise BadRequest(str(exc)) from None
