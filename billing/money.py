"""Money (BIL-7): Decimal everywhere, EUR, rounded half-up to cents once per line."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(amount: Decimal) -> Decimal:
    """Round half-up to cents (0.005 → 0.01, 0.004 → 0.00; -0.005 → -0.01)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value) -> Decimal:
    """A money amount from user input ("12.5", 12.5 is refused: floats are never money)."""
    if isinstance(value, float):
        raise TypeError("Money is never a float; pass a str or Decimal.")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"Not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"Not an amount: {value!r}")
    return amount


def line_amount(
    *, quantity: int, unit_price: Decimal, days: int | None = None, period_days: int | None = None
) -> Decimal:
    """Net amount of one line: quantity × monthly unit price, pro rata by days where the
    subscription was in force for part of the period only; rounded half-up to cents once, at
    the end (never per licence or per day)."""
    amount = Decimal(quantity) * Decimal(unit_price)
    if days is not None and period_days and days != period_days:
        amount = amount * Decimal(days) / Decimal(period_days)
    return to_cents(amount)
