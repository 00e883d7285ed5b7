"""What offer participants are told: in-portal notifications and emails (PLT-4, OFR-4, OFR-6)."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization
from organizations.selectors import members_with_capability
from portal.emails import email_enqueue
from portal.notifications import notification_create_many, notification_kind

from .models import Offer

KINDS = {
    "received": _("{partner} sent you the offer “{title}”."),
    "cancelled": _("{partner} withdrew the offer “{title}”."),
    "accepted": _("{customer} accepted the offer “{title}”."),
    "declined": _("{customer} declined the offer “{title}”."),
    "delivery_failed": _("The offer “{title}” to {customer} could not be delivered."),
}
for _event, _message in KINDS.items():
    notification_kind(f"offers.{_event}", _message)


def offer_path(offer: Offer, organization: Organization) -> str:
    return reverse("offer-detail", kwargs={"org": organization.public_id, "offer_id": offer.pk})


def _params(offer: Offer) -> dict:
    return {"title": offer.title, "partner": offer.partner.name, "customer": offer.customer.name}


def notify_customer_received(offer: Offer) -> None:
    """OFR-4: the customer's Owners/Admins, in the portal and by email (once per delivery round)."""
    recipients = members_with_capability(offer.customer, "offers.decide")
    url = offer_path(offer, offer.customer)
    params = _params(offer)
    # What the customer pays, nothing of the partner's conditions; formatted in each
    # recipient's language by the template (|money).
    items = list(offer.items.order_by("position", "id"))
    summary = {
        "items": [
            {
                "sku": item.sku,
                "name_en": item.name_en,
                "name_de": item.name_de,
                "quantity": item.quantity,
                "total": str(item.total_price),
            }
            for item in items
        ],
        "total": str(sum((item.total_price for item in items), Decimal("0.00"))),
    }
    notification_create_many(
        recipients=recipients, kind="offers.received", params=params, organization=offer.customer, url=url
    )
    for user in recipients:
        email_enqueue(
            to=user.email,
            subject_template="offers/email/received_subject.txt",
            body_template="offers/email/received_body.txt",
            context={**params, **summary, "message": offer.message, "url": url},
            language=user.language,
            dedupe_key=f"offer:{offer.pk}:received:{offer.delivery_attempt}:{user.pk}",
        )


def notify_customer(offer: Offer, event: str) -> None:
    recipients = members_with_capability(offer.customer, "offers.decide")
    notification_create_many(
        recipients=recipients,
        kind=f"offers.{event}",
        params=_params(offer),
        organization=offer.customer,
        url=offer_path(offer, offer.customer),
    )


def notify_partner(offer: Offer, event: str) -> None:
    recipients = members_with_capability(offer.partner, "offers.send")
    notification_create_many(
        recipients=recipients,
        kind=f"offers.{event}",
        params=_params(offer),
        organization=offer.partner,
        url=offer_path(offer, offer.partner),
    )
