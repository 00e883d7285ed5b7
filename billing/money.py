"""Money (BIL-7), the one helper: Decimal everywhere, EUR, rounded half-up to cents once per line;
totals and VAT of an invoice; amounts formatted in the active language.

Used by the subscriptions (monthly amounts, the billable lines of the monthly run), by the
invoices app (line amounts, totals, credit-note messages). Pages, emails and PDFs show amounts with
`|money` of `{% load ui %}` (the one money format, issue 16).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def to_cents(amount: Decimal) -> Decimal:
    """Round half-up to cents (0.005 → 0.01, 0.004 → 0.00; -0.005 → -0.01)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(
    *, quantity: int | Decimal, unit_price: Decimal, days: int | None = None, period_days: int | None = None
) -> Decimal:
    """Net amount of one line: quantity × monthly unit price, pro rata by days where the
    subscription was in force for part of the period only; rounded half-up to cents once, at
    the end (never per licence or per day)."""
    amount = Decimal(quantity) * Decimal(unit_price)
    if days is not None and period_days and days != period_days:
        amount = amount * Decimal(days) / Decimal(period_days)
    return to_cents(amount)


@dataclass(frozen=True)
class Totals:
    net: Decimal
    vat: Decimal
    gross: Decimal


def totals(*, line_amounts: Iterable[Decimal], vat_rate: Decimal) -> Totals:
    """Net = sum of the lines (each rounded to cents); VAT on the net total, rounded half-up;
    gross = net + VAT. `vat_rate` in percent."""
    net = sum((to_cents(amount) for amount in line_amounts), ZERO)
    vat = to_cents(net * vat_rate / HUNDRED)
    return Totals(net=net, vat=vat, gross=net + vat)


def format_amount(amount) -> str:
    """An amount with two decimals in the active language: `1.234,50` / `1,234.50`."""
    return number_format(Decimal(amount), decimal_pos=2, use_l10n=True, force_grouping=True)
