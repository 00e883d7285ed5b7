"""E-invoices (EN 16931): the UN/CEFACT CII XML of an invoice, as Factur-X/ZUGFeRD and XRechnung.

- `einvoice_xml(invoice, profile=FACTURX)` builds the Cross Industry Invoice XML from the issued
  invoice's snapshot (issuer, recipient, lines, VAT, totals) with lxml. The two profiles differ
  only in the guideline ID (BT-24): Factur-X/ZUGFeRD "EN 16931" (embedded in the PDF) and
  XRechnung 3.0 (the CIUS German public authorities require; downloaded as XML).
- `einvoice_pdf(pdf, invoice)` turns the visual PDF (WeasyPrint, PDF/A-3b) into a Factur-X PDF/A-3:
  `factur-x` checks the XML against the official EN 16931 XSD it bundles, embeds it as
  `factur-x.xml` (AFRelationship "Data") and writes the Factur-X XMP metadata. Further attachments
  (the per-customer itemisation CSV of a large invoice) are embedded beside it.

Mapping decisions (see the README "E-invoices and VAT"):
- Type code 380 (commercial invoice), 381 for a credit note (`Invoice.kind == "credit_note"`); a
  credit note refers to the corrected invoice (BT-25) and carries positive amounts, as EN 16931
  wants (the credit note type says the direction).
- One VAT category per invoice (`invoices.vat.VAT_CATEGORIES`): S 19 %, AE reverse charge, or O
  outside the scope of German VAT. For O, EN 16931 (BR-O-02) forbids the seller's and buyer's
  VAT IDs, so the seller is identified by its tax number (FC) instead.
- Quantities use unit code C62 ("one"); unit prices keep their 4 places; the billing period of
  each line is BT-134/135, the invoice's BT-73/74.
- Payment means 58 (SEPA credit transfer) to the issuer's IBAN when one is configured, else 1;
  the payment terms text is the one printed on the invoice, due date 14 days after issue.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from lxml import etree

from .models import Invoice
from .vat import VAT_CATEGORIES

FACTURX = "urn:cen.eu:en16931:2017"
XRECHNUNG = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PROFILES = {"factur-x": FACTURX, "xrechnung": XRECHNUNG}

PAYMENT_DAYS = 14  # as printed: "Please transfer the amount within 14 days"

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
RSM, RAM, UDT, QDT = (f"{{{NS[prefix]}}}" for prefix in ("rsm", "ram", "udt", "qdt"))


def invoice_kind(invoice: Invoice) -> str:
    """ "invoice" or "credit_note" (`Invoice.kind`, where the credit notes exist)."""
    return getattr(invoice, "kind", "invoice") or "invoice"


def type_code(invoice: Invoice) -> str:
    return "381" if invoice_kind(invoice) == "credit_note" else "380"


def _sub(parent, tag: str, text=None, **attributes):
    element = etree.SubElement(parent, tag, {key: str(value) for key, value in attributes.items()})
    if text is not None:
        element.text = str(text)
    return element


def _date(parent, tag: str, day: date, prefix: str = UDT) -> None:
    _sub(_sub(parent, RAM + tag), prefix + "DateTimeString", day.strftime("%Y%m%d"), format="102")


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _issue_date(invoice: Invoice) -> date:
    issued = invoice.issued_at
    return timezone.localtime(issued).date() if timezone.is_aware(issued) else issued.date()


def _corrected(invoice: Invoice):
    corrects_id = getattr(invoice, "corrects_id", None)
    return getattr(invoice, "corrects", None) if corrects_id else None


def _party(parent, tag: str, *, name, street, postcode, city, country, email, vat_id="", tax_number="", contact=None):
    party = _sub(parent, RAM + tag)
    _sub(party, RAM + "Name", name)
    if contact:
        person = _sub(party, RAM + "DefinedTradeContact")
        _sub(person, RAM + "PersonName", contact["name"])
        if contact.get("phone"):
            _sub(_sub(person, RAM + "TelephoneUniversalCommunication"), RAM + "CompleteNumber", contact["phone"])
        if contact.get("email"):
            _sub(_sub(person, RAM + "EmailURIUniversalCommunication"), RAM + "URIID", contact["email"])
    address = _sub(party, RAM + "PostalTradeAddress")
    if postcode:
        _sub(address, RAM + "PostcodeCode", postcode)
    if street:
        _sub(address, RAM + "LineOne", street)
    if city:
        _sub(address, RAM + "CityName", city)
    _sub(address, RAM + "CountryID", (country or "DE").upper())
    if email:
        _sub(_sub(party, RAM + "URIUniversalCommunication"), RAM + "URIID", email, schemeID="EM")
    if tax_number:
        _sub(_sub(party, RAM + "SpecifiedTaxRegistration"), RAM + "ID", tax_number, schemeID="FC")
    if vat_id:
        _sub(_sub(party, RAM + "SpecifiedTaxRegistration"), RAM + "ID", vat_id, schemeID="VA")
    return party


def _trade_tax(parent, category, rate: Decimal, *, basis: Decimal | None = None, tax: Decimal | None = None):
    tax_element = _sub(parent, RAM + "ApplicableTradeTax")
    if tax is not None:
        _sub(tax_element, RAM + "CalculatedAmount", _amount(tax))
    _sub(tax_element, RAM + "TypeCode", "VAT")
    if basis is not None and category.exemption_reason:
        _sub(tax_element, RAM + "ExemptionReason", category.exemption_reason)
    if basis is not None:
        _sub(tax_element, RAM + "BasisAmount", _amount(basis))
    _sub(tax_element, RAM + "CategoryCode", category.code)
    if basis is not None and category.exemption_code:
        _sub(tax_element, RAM + "ExemptionReasonCode", category.exemption_code)
    if category.code != "O":  # BR-O-05: no rate for "not subject to VAT"
        _sub(tax_element, RAM + "RateApplicablePercent", f"{rate.quantize(Decimal('0.01'))}")
    return tax_element


def _period(parent, start: date, end: date) -> None:
    period = _sub(parent, RAM + "BillingSpecifiedPeriod")
    _date(period, "StartDateTime", start)
    _date(period, "EndDateTime", end)


def einvoice_xml(invoice: Invoice, *, profile: str = FACTURX, lines=None) -> bytes:
    """The CII XML (UTF-8 bytes) of an issued invoice or credit note in `profile` (FACTURX/XRECHNUNG).

    `lines` defaults to all lines of the invoice (one query, streamed).
    """
    issuer = invoice.issuer or {}
    category = VAT_CATEGORIES[invoice.vat_treatment]
    outside_scope = category.code == "O"
    # A credit note carries negative amounts in the portal; EN 16931 wants them positive (type 381).
    sign = Decimal(-1) if invoice_kind(invoice) == "credit_note" and invoice.gross_total < 0 else Decimal(1)
    issued_on = _issue_date(invoice)

    root = etree.Element(RSM + "CrossIndustryInvoice", nsmap=NS)
    context = _sub(root, RSM + "ExchangedDocumentContext")
    _sub(_sub(context, RAM + "GuidelineSpecifiedDocumentContextParameter"), RAM + "ID", profile)
    document = _sub(root, RSM + "ExchangedDocument")
    _sub(document, RAM + "ID", invoice.number)
    _sub(document, RAM + "TypeCode", type_code(invoice))
    _date(document, "IssueDateTime", issued_on)
    if invoice.vat_note:
        _sub(_sub(document, RAM + "IncludedNote"), RAM + "Content", invoice.vat_note)
    if issuer.get("name"):
        # BT-22 with subject REG: the seller's registration details, as German practice prints them.
        note = _sub(document, RAM + "IncludedNote")
        _sub(
            note,
            RAM + "Content",
            f"{issuer.get('name')}, {issuer.get('street', '')}, {issuer.get('postcode', '')} {issuer.get('city', '')}",
        )
        _sub(note, RAM + "SubjectCode", "REG")

    transaction = _sub(root, RSM + "SupplyChainTradeTransaction")
    if lines is None:
        lines = invoice.lines.order_by("position").iterator(chunk_size=2000)
    for line in lines:
        item = _sub(transaction, RAM + "IncludedSupplyChainTradeLineItem")
        _sub(_sub(item, RAM + "AssociatedDocumentLineDocument"), RAM + "LineID", line.position)
        product = _sub(item, RAM + "SpecifiedTradeProduct")
        name = line.description or "-"
        if line.customer_name and line.customer_id != invoice.recipient_id:
            name = f"{name} – {line.customer_name}"
        _sub(product, RAM + "Name", name)
        agreement = _sub(item, RAM + "SpecifiedLineTradeAgreement")
        _sub(_sub(agreement, RAM + "NetPriceProductTradePrice"), RAM + "ChargeAmount", f"{abs(line.unit_price)}")
        delivery = _sub(item, RAM + "SpecifiedLineTradeDelivery")
        _sub(delivery, RAM + "BilledQuantity", f"{line.quantity}", unitCode="C62")
        settlement = _sub(item, RAM + "SpecifiedLineTradeSettlement")
        _trade_tax(settlement, category, invoice.vat_rate)
        _period(settlement, line.period_start, line.period_end)
        summation = _sub(settlement, RAM + "SpecifiedTradeSettlementLineMonetarySummation")
        _sub(summation, RAM + "LineTotalAmount", _amount(line.net_amount * sign))

    agreement = _sub(transaction, RAM + "ApplicableHeaderTradeAgreement")
    # BT-10 is mandatory in XRechnung; "n/a" is the value KoSIT documents for buyers without one.
    buyer_reference = getattr(invoice, "recipient_buyer_reference", "") or ""
    if buyer_reference or profile == XRECHNUNG:
        _sub(agreement, RAM + "BuyerReference", buyer_reference or "n/a")
    _party(
        agreement,
        "SellerTradeParty",
        name=issuer.get("name", ""),
        street=issuer.get("street", ""),
        postcode=issuer.get("postcode", ""),
        city=issuer.get("city", ""),
        country=issuer.get("country", "DE"),
        email=issuer.get("email", ""),
        vat_id="" if outside_scope else issuer.get("vat_id", ""),
        tax_number=issuer.get("tax_number", "") if (outside_scope or not issuer.get("vat_id")) else "",
        contact={"name": issuer.get("name", ""), "phone": issuer.get("phone", ""), "email": issuer.get("email", "")},
    )
    _party(
        agreement,
        "BuyerTradeParty",
        name=invoice.recipient_name,
        street=invoice.recipient_street,
        postcode=invoice.recipient_postcode,
        city=invoice.recipient_city,
        country=str(invoice.recipient_country or "DE"),
        email=invoice.recipient_email,
        vat_id="" if outside_scope else invoice.recipient_vat_id,
    )
    _sub(transaction, RAM + "ApplicableHeaderTradeDelivery")

    settlement = _sub(transaction, RAM + "ApplicableHeaderTradeSettlement")
    _sub(settlement, RAM + "PaymentReference", invoice.number)
    _sub(settlement, RAM + "InvoiceCurrencyCode", invoice.currency)
    means = _sub(settlement, RAM + "SpecifiedTradeSettlementPaymentMeans")
    iban = "".join((issuer.get("iban") or "").split())
    _sub(means, RAM + "TypeCode", "58" if iban else "1")
    if iban:
        _sub(_sub(means, RAM + "PayeePartyCreditorFinancialAccount"), RAM + "IBANID", iban)
    _trade_tax(settlement, category, invoice.vat_rate, basis=invoice.net_total * sign, tax=invoice.vat_amount * sign)
    _period(settlement, invoice.period_start, invoice.period_end)
    terms = _sub(settlement, RAM + "SpecifiedTradePaymentTerms")
    if invoice.payment_method_text:
        _sub(terms, RAM + "Description", invoice.payment_method_text)
    _date(terms, "DueDateDateTime", issued_on + timedelta(days=PAYMENT_DAYS))
    totals = _sub(settlement, RAM + "SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(totals, RAM + "LineTotalAmount", _amount(invoice.net_total * sign))
    _sub(totals, RAM + "TaxBasisTotalAmount", _amount(invoice.net_total * sign))
    _sub(totals, RAM + "TaxTotalAmount", _amount(invoice.vat_amount * sign), currencyID=invoice.currency)
    _sub(totals, RAM + "GrandTotalAmount", _amount(invoice.gross_total * sign))
    _sub(totals, RAM + "DuePayableAmount", _amount(invoice.gross_total * sign))
    corrected = _corrected(invoice)
    if corrected is not None:
        reference = _sub(settlement, RAM + "InvoiceReferencedDocument")
        _sub(reference, RAM + "IssuerAssignedID", corrected.number)
        _date(reference, "FormattedIssueDateTime", _issue_date(corrected), prefix=QDT)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def einvoice_xml_check(xml: bytes) -> None:
    """Raise if `xml` does not validate against the official EN 16931 CII XSD bundled by factur-x."""
    from facturx import xml_check_xsd

    xml_check_xsd(xml, flavor="factur-x", level="en16931")


def itemisation_csv(invoice: Invoice, lines) -> bytes:
    """Every line of the invoice as CSV (UTF-8 with BOM for spreadsheet apps): the itemisation
    attached to a summarised PDF, part of the invoice (see `invoices.services.issuing`)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(
        ["invoice", "position", "customer", "description", "from", "until", "quantity", "unit_price", "net_amount"]
    )
    for line in lines:
        writer.writerow(
            [
                invoice.number,
                line.position,
                line.customer_name,
                line.description,
                line.period_start.isoformat(),
                line.period_end.isoformat(),
                line.quantity,
                line.unit_price,
                line.net_amount,
            ]
        )
    return buffer.getvalue().encode("utf-8")


def einvoice_pdf(pdf: bytes, invoice: Invoice, *, xml: bytes, attachments: dict[str, bytes] | None = None) -> bytes:
    """The Factur-X PDF/A-3: `pdf` (rendered as PDF/A-3b) with `xml` and `attachments` embedded.

    factur-x validates the XML against the EN 16931 XSD first (raises if invalid)."""
    from facturx import generate_from_binary

    kind = invoice_kind(invoice)
    return generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata={
            "author": (invoice.issuer or {}).get("name", ""),
            "keywords": "Factur-X, ZUGFeRD, EN 16931",
            "title": f"{'Credit note' if kind == 'credit_note' else 'Invoice'} {invoice.number}",
            "subject": f"{invoice.recipient_name} {invoice.period_start.isoformat()}/{invoice.period_end.isoformat()}",
        },
        lang=invoice.language,
        attachments={
            filename: {"filedata": content, "description": filename}
            for filename, content in (attachments or {}).items()
        },
    )


def xrechnung_response(request, invoice: Invoice):
    """The stored XRechnung XML (issue 13: built once by the worker, never in a request), sent
    like the PDF: a private file through django-sendfile2, after the caller's access check.
    Clients that accept gzip get the copy the worker compressed beside it (12.5 MB → 130 KB for
    10,000 lines); behind nginx the proxy picks that copy itself (`gzip_static`, deploy/nginx.conf)."""
    from portal.files import private_file_response

    return private_file_response(
        request,
        invoice.xrechnung,
        filename=invoice.xrechnung_filename,
        content_type="application/xml",
        attachment=True,
        precompressed=True,
    )
