"""Support reads invoices and payment methods in the admin (ORG-9); nothing here can change them.

Invoices are issued by the monthly run only and never change (BIL-5): every field is read-only,
there is no add, change or delete. Payment methods show the masked IBAN only (BIL-6). The PDF is
private (no URL): the admin links to its own download view, which the admin's view permission guards.

Two support writes go through the services (issue 15), each behind its own permission and audited:
issuing a credit note for an invoice (in full or for chosen lines, `credit_note_issue`, the
"Issue a credit note" link on the invoice) and marking invoices paid (an action on the list,
`invoice_mark_paid`), which stops dunning for them.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from portal.admin import ReadOnlyAdminMixin
from portal.errors import DomainError
from portal.files import private_file_response

from .models import Invoice, InvoiceLine, PaymentMethod
from .services.credit_notes import CreditLine, credit_note_issue, open_amount
from .services.dunning import invoice_mark_paid


class CreditNoteForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("What to credit"),
        choices=[("full", _("The whole invoice")), ("lines", _("Only the lines given below"))],
        widget=forms.RadioSelect,
        initial="full",
    )
    lines = forms.CharField(
        label=_("Lines to credit"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One line per row: its position, optionally a colon and the quantity to credit (“3” or “3: 2.5”)."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def clean(self):
        data = super().clean()
        if data.get("scope") != "lines":
            data["credit_lines"] = None
            return data
        credit_lines = []
        for row in (data.get("lines") or "").splitlines():
            if not row.strip():
                continue
            position, _colon, quantity = row.partition(":")
            try:
                credit_lines.append(
                    CreditLine(
                        position=int(position.strip()), quantity=Decimal(quantity.strip()) if quantity.strip() else None
                    )
                )
            except (ValueError, InvalidOperation):
                self.add_error("lines", _("“%(row)s” is not a position with an optional quantity.") % {"row": row})
                return data
        if not credit_lines:
            self.add_error("lines", _("Give at least one line to credit."))
        data["credit_lines"] = credit_lines
        return data


class InvoiceLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InvoiceLine
    fields = [
        "position",
        "customer_name",
        "description",
        "quantity",
        "unit_price",
        "period_start",
        "period_end",
        "net_amount",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "kind",
        "recipient",
        "period_start",
        "net_total",
        "vat_amount",
        "gross_total",
        "vat_treatment",
        "issued_at",
        "overdue_since",
        "paid_at",
    ]
    list_filter = [
        "kind",
        "vat_treatment",
        "year",
        ("overdue_since", admin.EmptyFieldListFilter),
        ("paid_at", admin.EmptyFieldListFilter),
    ]
    actions = ["mark_paid"]
    # Plus (get_search_results) the customers on its lines: a partner's invoice is found by the
    # name or identifier of any customer it bills.
    search_fields = ["=number", "recipient__name", "=recipient__public_id", "recipient_name", "=recipient_vat_id"]
    list_select_related = ["recipient"]
    show_full_result_count = False
    ordering = ["-year", "-sequence", "kind"]
    inlines = [InvoiceLineInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "kind",
                    "corrects",
                    "reason",
                    "credit_notes_and_action",
                    "recipient",
                    "period_start",
                    "period_end",
                    "issued_at",
                    "language",
                    "pdf_download",
                    "emailed_at",
                ]
            },
        ),
        (
            _("Recipient"),
            {
                "fields": [
                    "recipient_name",
                    "recipient_street",
                    "recipient_postcode",
                    "recipient_city",
                    "recipient_country",
                    "recipient_vat_id",
                    "recipient_email",
                ]
            },
        ),
        (
            _("Amounts"),
            {
                "fields": [
                    "currency",
                    "net_total",
                    "vat_treatment",
                    "vat_rate",
                    "vat_amount",
                    "gross_total",
                    "vat_note",
                    "payment_method_text",
                    "issuer",
                ]
            },
        ),
        (_("Payment"), {"fields": ["overdue_since", "paid_at", "paid_by"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Invoice._meta.fields] + ["pdf_download", "credit_notes_and_action"]

    def get_search_results(self, request, queryset, search_term):
        """Recipient or customer: an EXISTS over the lines (a join would repeat an invoice once per
        matching line and need DISTINCT over 10,000s of rows)."""
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return found, duplicates
        lines = InvoiceLine.objects.filter(invoice=OuterRef("pk")).filter(
            Q(customer_name__icontains=term) | Q(customer__name__icontains=term) | Q(customer__public_id__iexact=term)
        )
        return found | queryset.filter(Exists(lines)), duplicates

    def has_issue_credit_note_permission(self, request, obj=None):
        return request.user.has_perm("invoices.issue_credit_note")

    def has_mark_invoice_paid_permission(self, request, obj=None):
        return request.user.has_perm("invoices.mark_invoice_paid")

    @admin.display(description=_("Credit notes"))
    def credit_notes_and_action(self, obj):
        if not obj or obj.kind != Invoice.Kind.INVOICE:
            return "-"
        links = (
            format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                (
                    (reverse("admin:invoices_invoice_change", args=[note.pk]), note.number)
                    for note in obj.credit_notes.all()
                ),
            )
            or "-"
        )
        if open_amount(obj) <= 0:
            return links
        url = reverse("admin:invoices_invoice_credit_note", args=[obj.pk])
        return format_html('{} · <a class="button" href="{}">{}</a>', links, url, _("Issue a credit note"))

    @admin.action(description=_("Mark the selected invoices paid"), permissions=["mark_invoice_paid"])
    def mark_paid(self, request, queryset):
        marked = 0
        for invoice in queryset.select_related("recipient"):
            try:
                invoice_mark_paid(invoice=invoice, actor=request.user)
                marked += 1
            except DomainError as error:
                self.message_user(request, error.message, messages.WARNING)
        if marked:
            self.message_user(request, _("%(count)s invoices marked paid.") % {"count": marked}, messages.SUCCESS)

    def credit_note_view(self, request, object_id):
        """Issue a credit note for this invoice (support with `invoices.issue_credit_note`)."""
        invoice = self.get_object(request, object_id)
        if invoice is None or not self.has_view_permission(request, invoice):
            raise Http404
        if not self.has_issue_credit_note_permission(request):
            raise PermissionDenied
        form = CreditNoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                note = credit_note_issue(
                    invoice=invoice,
                    lines=form.cleaned_data["credit_lines"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.message_user(
                    request,
                    _("Credit note %(number)s was issued; it is emailed to the recipient.") % {"number": note.number},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:invoices_invoice_change", args=[note.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Issue a credit note for invoice %(number)s") % {"number": invoice.number},
            "invoice": invoice,
            "open_amount": open_amount(invoice),
            "lines": invoice.lines.order_by("position")[:200],
            "form": form,
        }
        return TemplateResponse(request, "admin/invoices/invoice/credit_note.html", context)

    @admin.display(description=_("PDF"))
    def pdf_download(self, obj):
        if not obj or not obj.pdf:
            return "-"
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_pdf", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.pdf_filename)

    def get_urls(self):
        info = (self.model._meta.app_label, self.model._meta.model_name)
        return [
            # Not wrapped in admin_view: a private file answers 404, never a login redirect.
            path("<path:object_id>/pdf/", never_cache(self.pdf_view), name="{}_{}_pdf".format(*info)),
            path(
                "<path:object_id>/credit-note/",
                self.admin_site.admin_view(self.credit_note_view),
                name="{}_{}_credit_note".format(*info),
            ),
        ] + super().get_urls()

    def pdf_view(self, request, object_id):
        """The stored PDF for support staff who may view this invoice in the admin; 404 otherwise."""
        if not self.admin_site.has_permission(request):
            raise Http404
        invoice = self.get_object(request, object_id)
        if invoice is None or not self.has_view_permission(request, invoice) or not invoice.pdf:
            raise Http404
        return private_file_response(
            request, invoice.pdf, filename=invoice.pdf_filename, content_type="application/pdf"
        )


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "organization",
        "kind",
        "masked_iban",
        "mandate_reference",
        "is_default",
        "created_at",
        "removed_at",
    ]
    list_filter = ["kind", "is_default"]
    search_fields = ["organization__name", "=organization__public_id", "=mandate_reference"]
    list_select_related = ["organization"]
    show_full_result_count = False
    fields = [
        "organization",
        "kind",
        "account_holder",
        "masked_iban",
        "bic",
        "mandate_reference",
        "mandate_signed_on",
        "is_default",
        "created_by",
        "created_at",
        "removed_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("IBAN"))
    def masked_iban(self, obj):
        return obj.masked_iban
