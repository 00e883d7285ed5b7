"""Audit actions of offers, offer templates, bulk sends and webhook settings (see `portal.audit`).

Template item prices are the partner's own figures (`unit_price` is partner-only everywhere);
database ids of templates, items and bulk sends stay with support.
"""

from django.utils.translation import gettext_lazy as _

from portal.audit import AuditField, audit_action, audit_fields

from .models import LicenseMode, Offer

audit_fields(
    status=AuditField(_("status")),
    customer=AuditField(_("customer")),
    title=AuditField(_("title")),
    template=AuditField(_("template")),
    error=AuditField(_("error")),
    reason=AuditField(_("reason")),
    bulk_send=AuditField(_("bulk send")),
    name=AuditField(_("name")),
    item=AuditField(_("item")),
    sku=AuditField(_("SKU")),
    quantity=AuditField(_("quantity")),
    term_months=AuditField(_("term (months)")),
    license_mode=AuditField(_("license mode")),
    unit_price=AuditField(_("unit price"), partner_only=True),
    total=AuditField(_("total")),
    url=AuditField(_("URL")),
    is_active=AuditField(_("active"), kind="bool"),
    secret_changed=AuditField(_("secret changed"), kind="bool"),
)

OFFER = {
    "actor": ("status", "customer", "title", "reason"),
    "support": ("template", "bulk_send", "error"),
    "values": {"status": Offer.Status},
}
audit_action("offer.sent", label=_("Offer sent"), sentence=_("{actor_org} sent the offer “{title}”."), **OFFER)
audit_action("offer.delivered", label=_("Offer delivered"), sentence=_("The offer “{title}” was delivered."), **OFFER)
audit_action(
    "offer.delivery_failed",
    label=_("Offer delivery failed"),
    sentence=_("The offer “{title}” could not be delivered."),
    actor=("status", "customer", "title", "error"),
    other_party=("status", "title"),
    support=("template", "bulk_send"),
    values={"status": Offer.Status},
)
audit_action(
    "offer.delivery_retried",
    label=_("Offer delivery retried"),
    sentence=_("{actor_org} retried delivering the offer “{title}”."),
    **OFFER,
)
audit_action(
    "offer.cancelled", label=_("Offer withdrawn"), sentence=_("{actor_org} withdrew the offer “{title}”."), **OFFER
)
audit_action(
    "offer.accepted", label=_("Offer accepted"), sentence=_("{actor_org} accepted the offer “{title}”."), **OFFER
)
audit_action(
    "offer.declined", label=_("Offer declined"), sentence=_("{actor_org} declined the offer “{title}”."), **OFFER
)

TEMPLATE_ITEM = {
    "actor": ("sku", "quantity", "term_months", "license_mode", "unit_price"),
    "support": ("item",),
    "values": {"license_mode": LicenseMode},
}
audit_action(
    "offer_template.created",
    label=_("Offer template created"),
    sentence=_("{actor_org} created the offer template {target}."),
    actor=("name",),
)
audit_action(
    "offer_template.renamed",
    label=_("Offer template renamed"),
    sentence=_("{actor_org} renamed the offer template to {name}."),
    actor=("name",),
)
audit_action(
    "offer_template.deleted",
    label=_("Offer template deleted"),
    sentence=_("{actor_org} deleted the offer template {target}."),
    actor=("name",),
)
audit_action(
    "offer_template.item_added",
    label=_("Offer template item added"),
    sentence=_("{actor_org} added {sku} to the offer template {target}."),
    **TEMPLATE_ITEM,
)
audit_action(
    "offer_template.item_changed",
    label=_("Offer template item changed"),
    sentence=_("{actor_org} changed an item of the offer template {target}."),
    **TEMPLATE_ITEM,
)
audit_action(
    "offer_template.item_removed",
    label=_("Offer template item removed"),
    sentence=_("{actor_org} removed {sku} from the offer template {target}."),
    **TEMPLATE_ITEM,
)
audit_action(
    "offer_bulk_send.started",
    label=_("Bulk send started"),
    sentence=_("{actor_org} started sending an offer to {total} customers."),
    actor=("total",),
    support=("template",),
)
audit_action(
    "offer_webhook.saved",
    label=_("Offer webhook saved"),
    sentence=_("{actor_org} saved the offer webhook {url}."),
    actor=("url", "is_active", "secret_changed"),
)
audit_action(
    "offer_webhook.deleted",
    label=_("Offer webhook deleted"),
    sentence=_("{actor_org} deleted the offer webhook {url}."),
    actor=("url",),
)
