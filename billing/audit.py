"""Audit actions of subscriptions (see `portal.audit`).

ORG-6: a subscription's `unit_price` is the payer's price – the partner's purchase price when a
reseller pays – and `payer` names who pays: both are partner-only, never shown to a customer.
"""

from django.utils.translation import gettext_lazy as _

from portal.audit import AuditField, audit_action, audit_fields

from .models import Subscription

audit_fields(
    product=AuditField(_("product")),
    quantity=AuditField(_("quantity")),
    unit_price=AuditField(_("unit price"), partner_only=True),
    payer=AuditField(_("payer"), partner_only=True),
    status=AuditField(_("status")),
    term_ends_at=AuditField(_("term ends"), kind="datetime"),
    ends_at=AuditField(_("ends"), kind="datetime"),
)

SUBSCRIPTION = {
    "actor": ("product", "quantity", "status", "term_ends_at", "ends_at", "unit_price", "payer"),
    "values": {"status": Subscription.Status},
}
for code, label, sentence in [
    ("trial_started", _("Trial started"), _("{actor_org} started a trial of {product}.")),
    ("booked", _("Subscription booked"), _("{actor_org} booked {quantity} × {product}.")),
    ("add_on_booked", _("Add-on booked"), _("{actor_org} booked the add-on {quantity} × {product}.")),
    ("quantity_changed", _("Licence count changed"), _("{actor_org} changed {product} to {quantity} licences.")),
    ("cancelled", _("Subscription cancelled"), _("{actor_org} cancelled {product}.")),
    ("service_ordered", _("Service ordered"), _("{actor_org} ordered the service {product}.")),
    (
        "provisioned_from_offer",
        _("Subscription from an offer"),
        _("{quantity} × {product} were booked from an accepted offer."),
    ),
    (
        "ended_with_relation",
        _("Subscription ended with the relation"),
        _("{product} ended because the customer relation ended."),
    ),
    (
        "payer_changed",
        _("Subscription continued by the customer"),
        _("{product} continues, now paid by the organization itself."),
    ),
    (
        "ended_with_archive",
        _("Subscription ended with archiving"),
        _("{product} ended because the organization was archived."),
    ),
    (
        "quantity_change_scheduled",
        _("Licence reduction scheduled"),
        _("{actor_org} reduced {product} to {quantity} licences from the end of the term."),
    ),
    (
        "payer_switch_scheduled",
        _("Invoice recipient changes next month"),
        _("{product}: the invoice recipient changes from the next billing period on."),
    ),
    (
        "scheduled_change_applied",
        _("Scheduled change in force"),
        _("{product} now has {quantity} licences, as scheduled."),
    ),
    ("expired", _("Subscription expired"), _("{product} expired.")),
    ("renewed", _("Subscription renewed"), _("{product} was renewed for another term.")),
]:
    audit_action(f"subscription.{code}", label=label, sentence=sentence, **SUBSCRIPTION)
