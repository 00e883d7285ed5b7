"""Browser pages of invoices and payment methods (BIL-5, BIL-6) under `/o/<org>/settings/…`.

Partner-only areas (ORG-6): the capabilities "billing.view" and "payment_methods.manage" are
hidden (404) from a partner-linked customer's own accounts; partner staff find each customer
org's invoices inside that org. Thin adapters: the restricted queryset comes from the tenancy
choke point, writes are one service call each.
"""

from __future__ import annotations

from html import escape

from django.core.paginator import Paginator
from django.db.models import DecimalField, OuterRef, Subquery
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, ListView
from django.views.generic.detail import SingleObjectMixin

from billing.templatetags.billing_tags import quantity as quantity_text
from billing.templatetags.billing_tags import unit_price as unit_price_text
from portal.files import PrivateFileMixin, private_file_response
from portal.templatetags.ui import day, money
from portal.views import DomainErrorActionMixin, DomainErrorFormMixin, OrgScopedMixin

from .einvoice import xrechnung_response
from .forms import PaymentMethodForm
from .itemisation import itemisation_file_response, itemisation_response
from .models import Invoice, InvoiceCustomerTotal, PaymentMethod
from .selectors import (
    LINES_PER_PAGE,
    SECTIONS_PER_PAGE,
    invoice_lines,
    invoice_list,
    invoice_section_counts,
    invoice_section_totals,
    payment_method_list,
    section_total,
)
from .services import payment_methods as services
from .services.issuing import invoice_itemisation_request, invoice_pdf_request, invoice_xrechnung_request
from .vat import vat_note_text

PDF_RETRY_AFTER = 5  # seconds: how soon the "being prepared" page reloads itself
SECTIONS_PAGE_PARAM = "sections_page"  # the sums per customer page apart from the lines (`page`)


def customer_subtotal(organization):
    """Annotation: the part of each invoice billed for `organization` (its stored sum, issue 13)."""
    totals = InvoiceCustomerTotal.objects.filter(invoice=OuterRef("pk"), customer=organization).values("subtotal")
    return Subquery(totals[:1], output_field=DecimalField(max_digits=14, decimal_places=2))


class InvoiceListView(OrgScopedMixin, ListView):
    model = Invoice
    capability = "invoices.view"
    template_name = "invoices/list.html"
    paginate_by = 25

    def get_queryset(self):
        queryset = invoice_list(queryset=super().get_queryset())
        if self.org.acting_as_partner:
            queryset = queryset.annotate(customer_subtotal=customer_subtotal(self.org.organization))
        return queryset


class InvoiceDetailView(OrgScopedMixin, DetailView):
    """Totals, one sum per customer section and the lines a page at a time (issue 13: a partner
    invoice may hold 10,000 lines); the whole itemisation is the CSV download."""

    model = Invoice
    capability = "invoices.view"
    template_name = "invoices/detail.html"
    pk_url_kwarg = "invoice_id"
    context_object_name = "invoice"

    def get_queryset(self):
        return super().get_queryset().select_related("recipient")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invoice = self.object
        only = section_customer(self.org, invoice)
        line_count, section_count = invoice_section_counts(invoice=invoice, customer=only)
        paginator = Paginator(invoice_lines(invoice=invoice, customer=only), LINES_PER_PAGE)
        paginator.count = line_count  # known: saves the COUNT
        page = paginator.get_page(self.request.GET.get("page"))
        grouped = invoice.recipient.is_partner
        lines = with_texts(page.object_list, currency=invoice.currency, grouped=grouped)
        context.update(
            page_obj=page,
            lines=lines,
            lines_body=lines_body(lines),
            is_paginated=page.has_other_pages(),
            grouped=grouped,
            vat_note=vat_note_text(invoice.vat_note),
            partial=only is not None,
            pdf_ready=invoice_pdf_request(invoice=invoice),
        )
        if grouped:
            context.update(self._sections_page(invoice, only, section_count))
        return context

    def _sections_page(self, invoice: Invoice, only, section_count: int) -> dict:
        """Issue 13: the sums per customer a page at a time (`?sections_page=`), beside the lines'
        `?page=`: a partner invoice may have 10,000 customers."""
        paginator = Paginator(invoice_section_totals(invoice=invoice, customer=only), SECTIONS_PER_PAGE)
        paginator.count = section_count
        page = paginator.get_page(self.request.GET.get(SECTIONS_PAGE_PARAM))
        sections = [section_total(row) for row in page.object_list]
        for section in sections:
            section.subtotal_text = money(section.subtotal, invoice.currency)
        # its pager: `{% pagination sections_page param="sections_page" %}`
        return {
            "sections": sections,
            "sections_body": sections_body(sections),
            "sections_page": page,
            "sections_page_param": SECTIONS_PAGE_PARAM,
        }


def with_texts(lines, *, currency: str, grouped: bool) -> list:
    """The page's lines, each with its cells as text: `period_text` ("1 Nov 2026 – 30 Nov 2026"),
    `quantity_text`, `unit_price_text`, `amount_text` and, where a customer's lines begin on a
    grouped invoice, `customer_heading`. Periods, quantities and unit prices are formatted once per
    distinct value – the lines of a monthly invoice share a few – and formatting in the template,
    filter by filter, was a good part of the page's own time (issue 13)."""
    lines = list(lines)
    texts: dict = {}

    def once(kind, value, format_value):
        key = (kind, value)
        if key not in texts:
            texts[key] = format_value(value)
        return texts[key]

    previous_customer = None
    for line in lines:
        line.period_text = once(
            "period", (line.period_start, line.period_end), lambda period: f"{day(period[0])} – {day(period[1])}"
        )
        line.quantity_text = once("quantity", line.quantity, quantity_text)
        line.unit_price_text = once("unit_price", line.unit_price, unit_price_text)
        line.amount_text = money(line.net_amount, currency)
        line.customer_heading = ""
        if grouped and line.customer_id != previous_customer:
            line.customer_heading = _("Customer: %(customer)s") % {"customer": line.customer_name}
        previous_customer = line.customer_id
    return lines


def lines_body(lines: list) -> str:
    """The <tr>s of the page's lines (`with_texts`), a customer's heading row before its first line
    on a grouped invoice; every value escaped. Built here, not by a template loop (about 40 µs a
    row, issue 13; as the customer table, organizations/tables.py)."""
    html = []
    for line in lines:
        if line.customer_heading:
            html.append(f'<tr><th scope="rowgroup" colspan="5">{escape(line.customer_heading)}</th></tr>\n')
        html.append(
            f"<tr><td>{escape(line.description)}</td><td>{escape(line.period_text)}</td>"
            f'<td class="num text-end">{escape(line.quantity_text)}</td>'
            f'<td class="num text-end">{escape(line.unit_price_text)}</td>'
            f'<td class="num text-end">{escape(line.amount_text)}</td></tr>\n'
        )
    return mark_safe("".join(html))  # noqa: S308 - every value was escaped above


def sections_body(sections: list) -> str:
    """The <tr>s of the sums per customer (`InvoiceDetailView._sections_page`), values escaped."""
    return mark_safe(  # noqa: S308 - every value is escaped here
        "".join(
            f'<tr><td>{escape(section.customer_name)}</td><td class="num text-end">{int(section.line_count)}</td>'
            f'<td class="num text-end">{escape(section.subtotal_text)}</td></tr>\n'
            for section in sections
        )
    )


def section_customer(org, invoice: Invoice):
    """Inside a customer org, partner staff see only that customer's section of the partner invoice."""
    return org.organization if invoice.recipient_id != org.organization.pk else None


class InvoicePdfView(PrivateFileMixin, OrgScopedMixin, SingleObjectMixin, View):
    """The stored PDF. Never rendered here (issue 13): until the worker has stored it, a small
    "being prepared" page (202) that reloads itself, and the render job is made sure of.

    The only way to the file: the invoice comes from the tenancy-restricted queryset, and anyone
    who may not see it gets 404 (PrivateFileMixin); the bytes go out through django-sendfile2."""

    model = Invoice
    capability = "invoices.view"
    pk_url_kwarg = "invoice_id"

    def get(self, request, *args, **kwargs):
        invoice = self.get_object()
        if not invoice_pdf_request(invoice=invoice):
            return _being_prepared(request, invoice)
        return private_file_response(
            request, invoice.pdf, filename=invoice.pdf_filename, content_type="application/pdf"
        )


def _being_prepared(request, invoice: Invoice, *, document: str = "pdf"):
    """202 with a page that reloads itself until the worker has stored the document ("pdf",
    "xrechnung" or "itemisation")."""
    context = {"invoice": invoice, "document": document}
    response = render(request, "invoices/pdf_pending.html", context, status=202)
    response["Retry-After"] = str(PDF_RETRY_AFTER)
    response["Cache-Control"] = "private, no-store"
    return response


class InvoiceItemisationView(PrivateFileMixin, OrgScopedMixin, SingleObjectMixin, View):
    """The per-customer itemisation as CSV (invoices/itemisation.py): the whole invoice's is the
    file the worker stored (issue 13: never built in a request; 202 "being prepared" until it
    exists); inside a customer org, that customer's few lines, streamed."""

    model = Invoice
    capability = "invoices.view"
    pk_url_kwarg = "invoice_id"

    def get(self, request, *args, **kwargs):
        invoice = self.get_object()
        customer = section_customer(self.org, invoice)
        if customer is not None:
            return itemisation_response(invoice=invoice, customer=customer)
        if not invoice_itemisation_request(invoice=invoice):
            return _being_prepared(request, invoice, document="itemisation")
        return itemisation_file_response(request, invoice)


def _payment_methods_url(org) -> str:
    return reverse("payment-method-list", kwargs={"org": org.organization.public_id})


class PaymentMethodListView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """The org's payment methods and the form to add one."""

    capability = "payment_methods.manage"
    form_class = PaymentMethodForm
    template_name = "invoices/payment_methods/list.html"
    success_message = gettext_lazy("The payment method was added.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        from portal.tenancy import restrict

        context["payment_methods"] = payment_method_list(queryset=restrict(PaymentMethod.objects.all(), self.scope))
        return context

    def perform(self, form):
        data = form.cleaned_data
        return services.payment_method_add(
            context=self.org,
            kind=data["kind"],
            account_holder=data["account_holder"],
            iban=data["iban"],
            bic=data["bic"],
            accept_mandate=data["accept_mandate"],
            make_default=data["make_default"],
            actor=self.request.user,
        )

    def get_success_url(self, method=None):
        return _payment_methods_url(self.org)


class _PaymentMethodActionView(OrgScopedMixin, DomainErrorActionMixin, View):
    capability = "payment_methods.manage"
    service = None

    def get_action_object(self):
        return self.kwargs["payment_method_id"]  # the service looks it up within the org

    def perform(self, payment_method_id) -> None:
        type(self).service(context=self.org, payment_method_id=payment_method_id, actor=self.request.user)

    def get_success_url(self, payment_method_id) -> str:
        return _payment_methods_url(self.org)


class PaymentMethodDefaultView(_PaymentMethodActionView):
    service = services.payment_method_set_default
    success_message = gettext_lazy("Future invoices use this payment method.")


class PaymentMethodRemoveView(_PaymentMethodActionView):
    service = services.payment_method_remove
    success_message = gettext_lazy("The payment method was removed.")


class InvoiceXRechnungView(PrivateFileMixin, OrgScopedMixin, SingleObjectMixin, View):
    """The invoice as XRechnung 3.0 CII XML (invoices/einvoice.py), built once from the issued
    snapshot by the worker with the PDF and stored next to it (issue 13: never in a request).
    Same access and the same 202 "being prepared" as the PDF: everyone who may not see the
    invoice gets 404."""

    model = Invoice
    capability = "invoices.view"
    pk_url_kwarg = "invoice_id"

    def get(self, request, *args, **kwargs):
        invoice = self.get_object()
        if not invoice_xrechnung_request(invoice=invoice):
            return _being_prepared(request, invoice, document="xrechnung")
        return xrechnung_response(request, invoice)
