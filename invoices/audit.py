"""Audit actions of payment methods and invoices (see `portal.audit`)."""

from django.utils.translation import gettext_lazy as _

from portal.audit import AuditField, audit_action, audit_fields

from .models import PaymentMethod

audit_fields(
    kind=AuditField(_("kind")),
    iban=AuditField(_("IBAN")),
    mandate_reference=AuditField(_("mandate reference")),
    is_default=AuditField(_("default"), kind="bool"),
    number=AuditField(_("number")),
    period=AuditField(_("period")),
    net=AuditField(_("net")),
    vat=AuditField(_("VAT")),
    gross=AuditField(_("gross")),
    corrects=AuditField(_("corrects invoice")),
    reason=AuditField(_("reason")),
    level=AuditField(_("reminder level")),
)

PAYMENT_METHOD = {"actor": ("kind", "iban", "mandate_reference", "is_default"), "values": {"kind": PaymentMethod.Kind}}
audit_action(
    "payment_method.added",
    label=_("Payment method added"),
    sentence=_("{actor_org} added the payment method {kind}."),
    **PAYMENT_METHOD,
)
audit_action(
    "payment_method.default_set",
    label=_("Default payment method set"),
    sentence=_("{actor_org} made {kind} the default payment method."),
    **PAYMENT_METHOD,
)
audit_action(
    "payment_method.removed",
    label=_("Payment method removed"),
    sentence=_("{actor_org} removed the payment method {kind}."),
    **PAYMENT_METHOD,
)
audit_action(
    "invoice.issued",
    label=_("Invoice issued"),
    sentence=_("Invoice {number} was issued for {period}."),
    actor=("number", "period", "net", "vat", "gross"),
)
audit_action(
    "invoice.credit_note_issued",
    label=_("Credit note issued"),
    sentence=_("Credit note {number} was issued for invoice {corrects}."),
    actor=("number", "corrects", "reason", "net", "vat", "gross"),
)
audit_action(
    "invoice.marked_paid",
    label=_("Invoice marked paid"),
    sentence=_("Invoice {number} was marked paid."),
    actor=("number",),
)
audit_action(
    "invoice.reminder_queued",
    label=_("Payment reminder sent"),
    sentence=_("Payment reminder {level} for invoice {number} was sent."),
    actor=("number", "level"),
)
