"""BIL-5/BIL-7: issuing – VAT, rounding, numbering, idempotency, grouping, immutability."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from billing.money import line_amount, to_cents, totals
from invoices.models import ImmutableInvoiceError, Invoice, InvoiceLine, InvoiceNumberCounter
from invoices.services.issuing import invoice_monthly_run, previous_month
from invoices.vat import OUTSIDE_EU_NOTE, REVERSE_CHARGE_NOTE, vat_decision
from organizations.models import AuditEvent
from organizations.roles import OrgRole
from portal.models import OutboxMessage
from tests import factories

from .factories import customer, issue, line, partner, product

pytestmark = pytest.mark.django_db
ISSUED = datetime(2026, 11, 1, 2, 30, tzinfo=UTC)
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


# --- VAT ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "country, vat_id, treatment, rate, note",
    [
        ("DE", "DE136695976", "domestic", "19.00", ""),
        ("DE", "", "domestic", "19.00", ""),
        ("", "", "domestic", "19.00", ""),
        ("AT", "ATU13585627", "reverse_charge", "0.00", REVERSE_CHARGE_NOTE),
        ("AT", "ATU13585628", "domestic", "19.00", ""),  # checksum wrong: no reverse charge
        ("AT", "DE136695976", "domestic", "19.00", ""),  # valid, but not an Austrian VAT ID
        ("GR", "EL094259216", "reverse_charge", "0.00", REVERSE_CHARGE_NOTE),  # Greece prefixes EL
        ("CH", "CHE-116.281.710", "outside_eu", "0.00", OUTSIDE_EU_NOTE),
        ("US", "", "outside_eu", "0.00", OUTSIDE_EU_NOTE),
        ("GB", "", "outside_eu", "0.00", OUTSIDE_EU_NOTE),
    ],
)
def test_vat_rules(country, vat_id, treatment, rate, note):
    decision = vat_decision(country=country, vat_id=vat_id)
    assert (decision.treatment, decision.rate, decision.note) == (treatment, Decimal(rate), note)


def test_german_recipient_pays_19_percent():
    recipient = customer(country="DE")
    [invoice] = issue(line(recipient, quantity="3", unit_price="33.33"))
    assert (invoice.net_total, invoice.vat_rate, invoice.vat_amount, invoice.gross_total) == (
        Decimal("99.99"),
        Decimal("19.00"),
        Decimal("19.00"),
        Decimal("118.99"),
    )
    assert invoice.vat_treatment == Invoice.VatTreatment.DOMESTIC and invoice.vat_note == ""


def test_eu_business_with_valid_vat_id_gets_reverse_charge_with_note():
    recipient = customer(name="Wien GmbH", country="AT", vat_id="ATU13585627")
    [invoice] = issue(line(recipient, quantity="2", unit_price="50.00"))
    assert (invoice.net_total, invoice.vat_amount, invoice.gross_total) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("100.00"),
    )
    assert invoice.vat_treatment == Invoice.VatTreatment.REVERSE_CHARGE
    assert invoice.vat_note == REVERSE_CHARGE_NOTE
    assert invoice.recipient_vat_id == "ATU13585627"


def test_recipient_outside_the_eu_pays_no_vat():
    recipient = customer(name="Zürich AG", country="CH")
    [invoice] = issue(line(recipient, quantity="1", unit_price="80.00"))
    assert (invoice.vat_treatment, invoice.vat_amount, invoice.gross_total) == (
        "outside_eu",
        Decimal("0.00"),
        Decimal("80.00"),
    )
    assert invoice.vat_note == OUTSIDE_EU_NOTE


# --- money (BIL-7) ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "quantity, unit_price, amount",
    [
        ("1", "0.005", "0.01"),  # half-up, not banker's rounding (which gives 0.00)
        ("1", "0.015", "0.02"),
        ("1", "0.025", "0.03"),  # banker's rounding would give 0.02
        ("1", "2.675", "2.68"),  # a float would give 2.67
        ("3", "0.3333", "1.00"),
        ("7", "1.4285", "10.00"),
        ("1", "0.0049", "0.00"),
        ("2.5", "3.99", "9.98"),
    ],
)
def test_each_line_is_rounded_half_up_to_cents(quantity, unit_price, amount):
    assert line_amount(quantity=Decimal(quantity), unit_price=Decimal(unit_price)) == Decimal(amount)


def test_totals_sum_rounded_lines_and_round_vat_half_up():
    # Three lines of 0.005 each round to 0.01 apiece: net 0.03 (not round(0.015) = 0.02).
    result = totals(
        line_amounts=[line_amount(quantity=Decimal(1), unit_price=Decimal("0.005"))] * 3, vat_rate=Decimal("19")
    )
    assert result.net == Decimal("0.03")
    # 0.03 × 19 % = 0.0057 → 0.01
    assert (result.vat, result.gross) == (Decimal("0.01"), Decimal("0.04"))
    # VAT exactly at half a cent: 10.50 × 19 % = 1.995 → 2.00
    assert totals(line_amounts=[Decimal("10.50")], vat_rate=Decimal("19")).vat == Decimal("2.00")


def test_amounts_are_stored_as_decimals_on_the_invoice():
    recipient = customer()
    [invoice] = issue(
        line(recipient, quantity="1", unit_price="0.005"), line(recipient, quantity="1", unit_price="0.005")
    )
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert isinstance(invoice.net_total, Decimal) and invoice.net_total == Decimal("0.02")
    assert [line.net_amount for line in invoice.lines.all()] == [Decimal("0.01"), Decimal("0.01")]
    assert invoice.lines.first().unit_price == Decimal("0.0050")
    assert to_cents(Decimal("1.005")) == Decimal("1.01")


# --- numbering --------------------------------------------------------------------------------------


def test_numbers_are_yearly_gapless_and_formatted():
    first, second, third = customer(name="A GmbH"), customer(name="B GmbH"), customer(name="C GmbH")
    issued = issue(line(first), line(second), issued_at=ISSUED)
    assert [invoice.number for invoice in issued] == ["2026-000001", "2026-000002"]
    issued += issue(line(third, period=NOVEMBER), period=NOVEMBER, issued_at=ISSUED)
    assert [invoice.number for invoice in issued] == ["2026-000001", "2026-000002", "2026-000003"]
    assert InvoiceNumberCounter.objects.get(year=2026).last_number == 3


def test_a_new_year_starts_at_one(time_machine):
    recipient = customer()
    time_machine.move_to("2026-12-31 12:00 +01:00")
    [december] = issue(line(recipient))
    time_machine.move_to("2027-01-01 03:00 +01:00")
    [january] = issue(
        line(recipient, period=(date(2026, 12, 1), date(2026, 12, 31))), period=(date(2026, 12, 1), date(2026, 12, 31))
    )
    assert december.number == "2026-000001" and january.number == "2027-000001"


def test_a_failed_run_leaves_no_gap(monkeypatch):
    first, second = customer(name="A GmbH"), customer(name="B GmbH")

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(AuditEvent.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        issue(line(first))
    monkeypatch.undo()
    assert not Invoice.objects.exists()
    [invoice] = issue(line(second))
    assert invoice.sequence == 1


# --- idempotency ------------------------------------------------------------------------------------


def test_running_twice_issues_nothing_new():
    recipient = customer()
    lines = [line(recipient)]
    assert len(issue(*lines)) == 1
    assert issue(*lines) == []
    assert Invoice.objects.count() == 1 and InvoiceLine.objects.count() == 1
    assert InvoiceNumberCounter.objects.get().last_number == 1
    assert OutboxMessage.objects.filter(kind="billing.invoice_deliver").count() == 1


def test_a_rerun_issues_only_for_recipients_still_missing():
    first, second = customer(name="A GmbH"), customer(name="B GmbH")
    issue(line(first))
    issued = issue(line(first), line(second))
    assert [invoice.recipient for invoice in issued] == [second]


def test_the_database_refuses_a_second_invoice_for_the_same_recipient_and_period():
    from django.db import IntegrityError, transaction

    recipient = customer()
    [invoice] = issue(line(recipient))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.bulk_create(
            [
                Invoice(
                    number="2026-999999",
                    year=2026,
                    sequence=999999,
                    recipient=recipient,
                    period_start=invoice.period_start,
                    period_end=invoice.period_end,
                    issued_at=invoice.issued_at,
                    recipient_name="x",
                    vat_treatment="domestic",
                    vat_rate=19,
                    net_total=0,
                    vat_amount=0,
                    gross_total=0,
                )
            ]
        )


def test_the_monthly_run_bills_the_previous_month():
    recipient = customer()
    seen = []

    def source(start, end):
        seen.append((start, end))
        return [line(recipient, period=(start, end))]

    assert invoice_monthly_run(today=date(2026, 3, 1), line_source=source) == 1
    assert invoice_monthly_run(today=date(2026, 3, 2), line_source=source) == 0
    assert seen == [(date(2026, 2, 1), date(2026, 2, 28))] * 2
    assert previous_month(date(2026, 1, 15)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_free_lines_alone_issue_no_invoice():
    recipient = customer()
    assert issue(line(recipient, unit_price="0.00")) == []
    assert issue(line(recipient, unit_price="0.004")) == []  # rounds to 0.00


# --- partner invoices grouped by customer org -------------------------------------------------------


def test_one_invoice_per_partner_with_lines_grouped_by_customer():
    reseller = partner()
    zeta, alpha = customer(name="Zeta AG"), customer(name="Alpha AG")
    factories.link(reseller, zeta)
    factories.link(reseller, alpha)
    module, storage = product("10.00", "Module"), product("2.50", "Storage")
    [invoice] = issue(
        line(reseller, zeta, module, "2", "8.00"),
        line(reseller, alpha, storage, "4", "2.25"),
        line(reseller, alpha, module, "1", "8.00"),
    )
    from invoices.selectors import invoice_sections

    sections = invoice_sections(invoice=invoice)
    assert [(s.customer_name, s.subtotal, len(s.lines)) for s in sections] == [
        ("Alpha AG", Decimal("17.00"), 2),
        ("Zeta AG", Decimal("16.00"), 1),
    ]
    assert invoice.recipient == reseller and invoice.net_total == Decimal("33.00")
    assert invoice.vat_amount == Decimal("6.27") and invoice.gross_total == Decimal("39.27")


def test_recipient_snapshot_uses_the_billing_address_where_it_is_the_invoice_recipient():
    recipient = customer(
        name="Direkt GmbH",
        billing_name="Direkt GmbH Buchhaltung",
        billing_street="Postfach 12",
        billing_postcode="20095",
        billing_city="Hamburg",
        billing_country="DE",
        billing_email="rechnung@direkt.example",
        billing_address_is_invoice_recipient=True,
    )
    factories.member(recipient, OrgRole.OWNER, email="owner@direkt.example", language="de")
    [invoice] = issue(line(recipient))
    assert (invoice.recipient_name, invoice.recipient_street, invoice.recipient_city) == (
        "Direkt GmbH Buchhaltung",
        "Postfach 12",
        "Hamburg",
    )
    assert invoice.recipient_email == "rechnung@direkt.example"
    assert invoice.language == "de"


def test_without_override_the_org_address_and_first_owner_email_are_used():
    recipient = customer(
        name="Direkt GmbH",
        billing_name="Nur Post GmbH",
        billing_street="Postweg 1",
        billing_postcode="20095",
        billing_city="Hamburg",
        billing_country="DE",
        billing_address_is_invoice_recipient=False,
    )
    factories.member(recipient, OrgRole.OWNER, email="owner@direkt.example", language="en")
    [invoice] = issue(line(recipient))
    assert (invoice.recipient_name, invoice.recipient_street) == ("Direkt GmbH", "Hauptstraße 1")
    assert invoice.recipient_email == "owner@direkt.example" and invoice.language == "en"


def test_issuing_is_recorded_in_the_recipients_audit_trail():
    recipient = customer()
    [invoice] = issue(line(recipient))
    event = AuditEvent.objects.get(action="invoice.issued")
    assert event.organization == recipient and event.target_repr == invoice.number
    assert event.after["gross"] == str(invoice.gross_total)


# --- immutability -------------------------------------------------------------------------------------


def test_issued_invoices_never_change():
    recipient = customer()
    [invoice] = issue(line(recipient))
    invoice = Invoice.objects.get(pk=invoice.pk)
    invoice.net_total = Decimal("1.00")
    with pytest.raises(ImmutableInvoiceError):
        invoice.save()
    with pytest.raises(ImmutableInvoiceError):
        invoice.save(update_fields=["net_total"])
    with pytest.raises(ImmutableInvoiceError):
        Invoice.objects.filter(pk=invoice.pk).update(gross_total=0)
    with pytest.raises(ImmutableInvoiceError):
        invoice.delete()
    with pytest.raises(ImmutableInvoiceError):
        Invoice.objects.all().delete()
    item = invoice.lines.get()
    item.unit_price = Decimal("0.01")
    with pytest.raises(ImmutableInvoiceError):
        item.save()
    with pytest.raises(ImmutableInvoiceError):
        InvoiceLine.objects.update(quantity=5)
    with pytest.raises(ImmutableInvoiceError):
        item.delete()
    stored = Invoice.objects.get(pk=invoice.pk)
    assert stored.net_total == Decimal("10.00") and stored.lines.get().unit_price == Decimal("10.0000")


def test_the_issuers_details_are_a_snapshot(settings):
    recipient = customer()
    settings.PORTAL_INVOICE_ISSUER = {"name": "Old Name GmbH"}
    [invoice] = issue(line(recipient))
    settings.PORTAL_INVOICE_ISSUER = {"name": "New Name GmbH"}
    assert Invoice.objects.get(pk=invoice.pk).issuer["name"] == "Old Name GmbH"
