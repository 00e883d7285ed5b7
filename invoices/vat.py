"""The issuer and the VAT rules of an invoice (BIL-5), in one place.

The issuer is the platform (`settings.BILLING_ISSUER` over `DEFAULT_ISSUER`), established in its
`country`; `vat_decision` says which VAT applies to a recipient (the table test is in
`invoices/tests/test_invoice_issuing.py`). The decision is a snapshot on the invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from stdnum.eu import vat as eu_vat

from .models import Invoice

DEFAULT_ISSUER = {
    "name": "Reseller Platform GmbH",
    "street": "Platzstraße 1",
    "postcode": "10115",
    "city": "Berlin",
    "country": "DE",
    "vat_id": "DE136695976",
    "email": "billing@portal.example",
    "bank": "Berliner Bank",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
}


def issuer_details() -> dict:
    return {**DEFAULT_ISSUER, **getattr(settings, "BILLING_ISSUER", {})}


def domestic_vat_rate() -> Decimal:
    return Decimal(str(getattr(settings, "BILLING_VAT_RATE", "19.00")))


# ISO country codes of the EU (stdnum speaks VAT prefixes: Greece is "EL"/"gr", Northern Ireland "XI").
EU_COUNTRIES = frozenset(code.upper() for code in eu_vat.MEMBER_STATES if code != "xi")


@dataclass(frozen=True)
class VatDecision:
    treatment: str
    rate: Decimal
    note: str  # English original; printed translated (gettext) in the invoice's language


REVERSE_CHARGE_NOTE = "Reverse charge: the recipient is liable for VAT (Art. 196 Council Directive 2006/112/EC)."
OUTSIDE_EU_NOTE = "Not taxable in Germany: the service is supplied to a recipient outside the EU."


def vat_id_is_valid(*, vat_id: str, country: str) -> bool:
    """A syntactically valid EU VAT ID (python-stdnum checksum) issued by `country`."""
    if not vat_id:
        return False
    compact = eu_vat.compact(vat_id)
    prefix = "GR" if compact[:2] == "EL" else compact[:2]
    return prefix == (country or "").upper() and eu_vat.is_valid(compact)


def vat_decision(*, country: str, vat_id: str) -> VatDecision:
    """The SPEC's rules, the platform (issuer) being established in Germany:

    - Germany (or no country recorded): 19 % German VAT.
    - Elsewhere in the EU with a valid VAT ID of that country: reverse charge, 0 %, with the note.
    - Elsewhere in the EU without a valid VAT ID (a consumer): German VAT as in Germany.
    - Outside the EU: no German VAT, 0 %, with a note.
    """
    country = (country or "").upper()
    home = issuer_details()["country"].upper()
    if not country or country == home:
        return VatDecision(Invoice.VatTreatment.DOMESTIC, domestic_vat_rate(), "")
    if country in EU_COUNTRIES:
        if vat_id_is_valid(vat_id=vat_id, country=country):
            return VatDecision(Invoice.VatTreatment.REVERSE_CHARGE, Decimal("0.00"), REVERSE_CHARGE_NOTE)
        return VatDecision(Invoice.VatTreatment.DOMESTIC, domestic_vat_rate(), "")
    return VatDecision(Invoice.VatTreatment.OUTSIDE_EU, Decimal("0.00"), OUTSIDE_EU_NOTE)


def vat_note_text(note: str) -> str:
    """The note in the active language (the English text is the msgid)."""
    return {
        REVERSE_CHARGE_NOTE: _(
            "Reverse charge: the recipient is liable for VAT (Art. 196 Council Directive 2006/112/EC)."
        ),
        OUTSIDE_EU_NOTE: _("Not taxable in Germany: the service is supplied to a recipient outside the EU."),
    }.get(note, note)
