"""What the sides of a customer relation are told (ORG-3): in-portal notifications for the
Owners/Admins of the side that did not act, and an email to the customer's Owners/Admins when a
partner asks to connect (through the outbox, in each recipient's language, once per recipient)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.emails import email_enqueue
from portal.notifications import notification_create_many, notification_kind

from .models import CustomerRelation
from .selectors import members_with_capability

KINDS = {
    "requested": _("{partner} asks to become the reseller of {customer}."),
    "accepted": _("{customer} accepted {partner} as its reseller."),
    "declined": _("{customer} declined the connection request of {partner}."),
    "ended": _("The reseller relation between {partner} and {customer} has ended."),
}
for _event, _message in KINDS.items():
    notification_kind(f"organizations.connection_{_event}", _message)


def notify_connection(relation: CustomerRelation, *, event: str) -> None:
    partner, customer = relation.partner, relation.customer
    params = {"partner": partner.name, "customer": customer.name}
    # requests go to the customer; answers to the partner; an ending to both
    sides = {"requested": [customer], "accepted": [partner], "declined": [partner], "ended": [partner, customer]}[event]
    for organization in sides:
        if organization.is_archived:
            continue
        recipients = members_with_capability(organization, "requests.decide")
        if not recipients:
            continue
        url = (
            reverse("open-requests", kwargs={"org": organization.public_id})
            if event == "requested"
            else reverse("organization-dashboard", kwargs={"org": organization.public_id})
        )
        notification_create_many(
            recipients=recipients,
            kind=f"organizations.connection_{event}",
            params=params,
            organization=organization,
            url=url,
        )
        if event != "requested":
            continue
        for user in recipients:
            email_enqueue(
                to=user.email,
                subject_template="organizations/email/connection_requested_subject.txt",
                body_template="organizations/email/connection_requested_body.txt",
                context={**params, "message": relation.message, "url": url},
                language=user.language,
                dedupe_key=f"customer-relation:{relation.pk}:requested:{user.pk}",
            )
