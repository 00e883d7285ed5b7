"""Issue 15: the VAT rules of `invoices/vat.py` as one table – recipient → treatment, rate, note,
EN 16931 category – and the issuer taken from settings.PORTAL_INVOICE_ISSUER."""

from __future__ import annotations

from decimal import Decimal

import pytest

from invoices.vat import (
    OUTSIDE_EU_NOTE,
    REVERSE_CHARGE_NOTE,
    VAT_CATEGORIES,
    issuer_details,
    vat_decision,
    vat_id_is_valid,
)

# country, VAT ID, treatment, rate, note, e-invoice category (UNTDID 5305), exemption code
TABLE = [
    # domestic: 19 %
    ("DE", "DE136695976", "domestic", "19.00", "", "S", ""),
    ("DE", "", "domestic", "19.00", "", "S", ""),
    ("", "", "domestic", "19.00", "", "S", ""),  # no country recorded: treated as domestic
    # EU business with a valid VAT ID of its country: reverse charge
    ("AT", "ATU13585627", "reverse_charge", "0.00", REVERSE_CHARGE_NOTE, "AE", "VATEX-EU-AE"),
    ("FR", "FR40303265045", "reverse_charge", "0.00", REVERSE_CHARGE_NOTE, "AE", "VATEX-EU-AE"),
    ("GR", "EL094259216", "reverse_charge", "0.00", REVERSE_CHARGE_NOTE, "AE", "VATEX-EU-AE"),
    # EU without a valid VAT ID: B2C, German VAT (below the OSS threshold, see the module doc)
    ("AT", "", "domestic", "19.00", "", "S", ""),
    ("AT", "ATU13585628", "domestic", "19.00", "", "S", ""),  # wrong checksum
    ("AT", "DE136695976", "domestic", "19.00", "", "S", ""),  # valid, but another country's
    # outside the EU: not taxable in Germany
    ("CH", "CHE-116.281.710 MWST", "outside_eu", "0.00", OUTSIDE_EU_NOTE, "O", "VATEX-EU-O"),
    ("US", "", "outside_eu", "0.00", OUTSIDE_EU_NOTE, "O", "VATEX-EU-O"),
    ("GB", "GB980780684", "outside_eu", "0.00", OUTSIDE_EU_NOTE, "O", "VATEX-EU-O"),  # not EU since 2021
]


@pytest.mark.parametrize("country, vat_id, treatment, rate, note, category, exemption", TABLE)
def test_issue15_vat_rules_table(country, vat_id, treatment, rate, note, category, exemption):
    decision = vat_decision(country=country, vat_id=vat_id)
    assert (decision.treatment, decision.rate, decision.note) == (treatment, Decimal(rate), note)
    assert (VAT_CATEGORIES[decision.treatment].code, VAT_CATEGORIES[decision.treatment].exemption_code) == (
        category,
        exemption,
    )


def test_issue15_vat_id_validity_is_offline_format_and_checksum():
    assert vat_id_is_valid(vat_id="DE 136 695 976", country="DE")
    assert not vat_id_is_valid(vat_id="DE136695977", country="DE")  # checksum
    assert not vat_id_is_valid(vat_id="DE13669597", country="DE")  # length
    assert not vat_id_is_valid(vat_id="", country="DE")


def test_issue15_issuer_from_settings_decides_what_is_domestic(settings):
    settings.PORTAL_INVOICE_ISSUER = {**settings.PORTAL_INVOICE_ISSUER, "country": "AT"}
    assert issuer_details()["country"] == "AT"
    assert vat_decision(country="AT", vat_id="ATU13585627").treatment == "domestic"
    assert vat_decision(country="DE", vat_id="DE136695976").treatment == "reverse_charge"


def test_issue15_issuer_has_every_printed_key(settings):
    settings.PORTAL_INVOICE_ISSUER = {"name": "Only A Name GmbH"}
    details = issuer_details()
    assert details["name"] == "Only A Name GmbH" and details["country"] == "DE"
    assert {"street", "vat_id", "tax_number", "iban", "bic", "email"} <= set(details)
