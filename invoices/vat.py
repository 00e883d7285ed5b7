"""The issuer and the VAT rules of an invoice (BIL-5), in one place.

The issuer is whoever the platform operator configures in `settings.PORTAL_INVOICE_ISSUER`
(name, address, VAT ID, tax number, bank): it is copied onto each invoice when it is issued
(`Invoice.issuer`) and printed on the PDF and written into the e-invoice XML from that copy. It is
never taken from an organization in the database: partners are recipients, not issuers.

`vat_decision` says which VAT applies to a recipient; the table test is
`invoices/tests/test_vat_rules.py`. The rules, the issuer being established in Germany and
supplying electronically supplied services / software licences (B2B services, §3a UStG):

| recipient                                  | treatment        | rate | note on the invoice | EN 16931 category |
|--------------------------------------------|------------------|------|---------------------|-------------------|
| Germany, or no country recorded            | domestic         | 19 % | –                   | S                 |
| other EU country, valid VAT ID of it       | reverse charge   | 0 %  | reverse charge      | AE (VATEX-EU-AE)  |
| other EU country, no / invalid VAT ID      | domestic         | 19 % | –                   | S                 |
| outside the EU                             | outside EU       | 0 %  | not taxable in DE   | O (VATEX-EU-O)    |

Why "EU without a valid VAT ID" is 19 % German VAT: the place of supply of a B2B service is the
recipient's country (§3a(2) UStG) only if the recipient is an entrepreneur, and the supplier may
only assume that with a VAT ID (§3a(2) UStG, Art. 18 Implementing Regulation 282/2011). Without
one the recipient is treated as a consumer (B2C). For electronically supplied B2C services the
place of supply moves to the consumer's country only above the EU-wide €10,000 threshold
(§3a(5) UStG); below it German VAT applies. The portal does not implement OSS (the other
country's rate and an OSS return): an operator above the threshold must register for OSS, and
this rule then needs the destination rates (not built – documented in the README).

VAT ID validity is checked offline with python-stdnum (country prefix, format and checksum); no
VIES request is made, so a well-formed but unassigned number counts as valid. A qualified VIES
confirmation is the operator's duty (documented in the README).

The decision is a snapshot on the invoice (`vat_treatment`, `vat_rate`, `vat_note`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from stdnum.eu import vat as eu_vat

from .models import Invoice

# Used where a key is missing from settings.PORTAL_INVOICE_ISSUER.
ISSUER_KEYS = ("name", "street", "postcode", "city", "country", "vat_id", "tax_number", "email", "phone")
ISSUER_OPTIONAL_KEYS = ("bank", "iban", "bic")


def issuer_details() -> dict:
    """The issuer as configured (`settings.PORTAL_INVOICE_ISSUER`), every key present (maybe empty)."""
    configured = dict(getattr(settings, "PORTAL_INVOICE_ISSUER", {}) or {})
    details = {key: str(configured.get(key) or "") for key in (*ISSUER_KEYS, *ISSUER_OPTIONAL_KEYS)}
    details["country"] = (details["country"] or "DE").upper()
    return details


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


@dataclass(frozen=True)
class VatCategory:
    """The EN 16931 VAT category of a treatment (UNTDID 5305 code, exemption reason code VATEX)."""

    code: str
    exemption_reason: str
    exemption_code: str


# The e-invoice category of each treatment (invoices/einvoice.py). "O" (not subject to VAT) rather
# than "G" (export of goods): these are services, outside the scope of German VAT.
VAT_CATEGORIES = {
    Invoice.VatTreatment.DOMESTIC: VatCategory("S", "", ""),
    Invoice.VatTreatment.REVERSE_CHARGE: VatCategory("AE", "Reverse charge", "VATEX-EU-AE"),
    Invoice.VatTreatment.OUTSIDE_EU: VatCategory("O", "Not subject to VAT", "VATEX-EU-O"),
}


def vat_id_is_valid(*, vat_id: str, country: str) -> bool:
    """A syntactically valid EU VAT ID (python-stdnum checksum) issued by `country`. Offline: no VIES."""
    if not vat_id:
        return False
    compact = eu_vat.compact(vat_id)
    prefix = "GR" if compact[:2] == "EL" else compact[:2]
    return prefix == (country or "").upper() and eu_vat.is_valid(compact)


def vat_decision(*, country: str, vat_id: str) -> VatDecision:
    """The VAT of an invoice to a recipient in `country` with `vat_id` (the table in the module doc)."""
    country = (country or "").upper()
    home = issuer_details()["country"]
    if not country or country == home:
        return VatDecision(Invoice.VatTreatment.DOMESTIC, domestic_vat_rate(), "")
    if country in EU_COUNTRIES:
        if vat_id_is_valid(vat_id=vat_id, country=country):
            return VatDecision(Invoice.VatTreatment.REVERSE_CHARGE, Decimal("0.00"), REVERSE_CHARGE_NOTE)
        # No valid VAT ID: a consumer (B2C) below the OSS threshold – German VAT (module doc).
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
