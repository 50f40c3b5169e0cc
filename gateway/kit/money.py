from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

# Currency code -> number of decimals. Crypto assets use their on-chain precision,
# capped at 18 (ETH's wei).
CURRENCIES: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "CHF": 2, "JPY": 0,
    "BTC": 8, "ETH": 18, "USDC": 6, "USDT": 6, "SOL": 9, "LTC": 8, "DAI": 18,
}
MAX_INTEGER_DIGITS = 18
# Enough precision for 18 integer digits and 18 decimals, so quantize never rounds.
_EXACT = Context(prec=60)


class InvalidAmount(ValueError):
    pass


def parse_currency(value: str) -> str:
    code = value.strip()
    if code not in CURRENCIES:
        raise InvalidAmount(
            f"unknown currency {value!r}; expected one of {', '.join(sorted(CURRENCIES))}"
        )
    return code


def parse_amount(value: str, currency: str) -> Decimal:
    """A positive decimal string with no more decimals than the currency has."""
    text = value.strip()
    if not text or text[0] in "+-" or any(c not in "0123456789." for c in text):
        raise InvalidAmount("amount must be a positive decimal string such as \"49.00\"")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidAmount("amount must be a positive decimal string such as \"49.00\"") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidAmount("amount must be greater than zero")
    if amount.adjusted() >= MAX_INTEGER_DIGITS or len(text) > 64:
        raise InvalidAmount("amount is too large")
    if amount != amount.quantize(Decimal(1).scaleb(-CURRENCIES[currency]), context=_EXACT):
        raise InvalidAmount(f"{currency} amounts have at most {CURRENCIES[currency]} decimals")
    return amount


_QUANTA = {currency: Decimal(1).scaleb(-decimals) for currency, decimals in CURRENCIES.items()}
_CENTS = Decimal("0.01")


def format_amount(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(_QUANTA.get(currency, _CENTS)):f}"
