"""Writes of offers: templates (OFR-2), sending (OFR-3), delivery (OFR-4), cancel (OFR-5),
accept/decline (OFR-6) – every state change a conditional UPDATE (OFR-7) with its audit event.

Who may call what is checked here too (`context.require`), so the browser, the API and tasks
share one rule. Sides: partner services need a partner `OrgContext`, customer services a customer
one; an offer seen from the wrong org is `NotFound`, like a foreign one.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from organizations.models import Organization
from portal.audit import audit_event_build, audit_record, audit_record_many
from portal.errors import Conflict, InvalidInput, NotFound
from portal.hooks import on, run_hooks
from portal.models import OutboxMessage
from portal.outbox import RetryLater, outbox_enqueue, outbox_publish
from portal.state_machine import transition
from portal.tenancy import OrgContext

from .models import (
    LicenseMode,
    Offer,
    OfferBulkSend,
    OfferItem,
    OfferTemplate,
    OfferTemplateItem,
    Product,
    WebhookEndpoint,
    partner_price,
)
from .notifications import notify_customer, notify_customer_received, notify_partner
from .selectors import customers_of_partner, partner_discount_percent, side_of
from .webhooks import WebhookFailed, webhook_post

Status = Offer.Status
DELIVER_KIND = "offers.deliver"
BULK_SEND_KIND = "offers.bulk_send"
MAX_MESSAGE = 2000
MAX_NAME = 200
MAX_ITEMS = 100
MAX_BULK_CUSTOMERS = 20000
BULK_CHUNK = 200


# --- helpers --------------------------------------------------------------------------------------


def _acting(context: OrgContext | None) -> Organization | None:
    if context is None:
        return None
    return context.via_partner or context.organization


def _require_side(context: OrgContext, side: str) -> None:
    if side_of(context) != side:
        raise NotFound(_("Not found."))


def _clean_text(value: str | None, *, field: str, maximum: int = MAX_MESSAGE) -> str:
    value = (value or "").strip()
    if len(value) > maximum:
        raise InvalidInput(_("This text is too long (at most %(max)s characters).") % {"max": maximum}, field=field)
    return value


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("Enter a name."), field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(_("The name is too long (at most %(max)s characters).") % {"max": MAX_NAME}, field="name")
    return name


def _offer_state(offer: Offer) -> dict:
    return {"status": offer.status, "customer": offer.customer.public_id, "title": offer.title}


def _audit_offer(
    offer: Offer,
    action: str,
    *,
    actor,
    context: OrgContext | None = None,
    before: dict | None = None,
    organization: Organization | None = None,
    extra: dict | None = None,
) -> None:
    """Offer events go to the partner's trail and, for what the customer sees, to the customer's."""
    after = {**_offer_state(offer), **(extra or {})}
    for trail in [organization] if organization else [offer.partner, offer.customer]:
        audit_record(
            action=f"offer.{action}",
            target=offer,
            actor=actor,
            organization=trail,
            acting_organization=_acting(context),
            before=before,
            after=after,
        )


def _audit_template(template: OfferTemplate, action: str, *, actor, context: OrgContext, before=None, after=None):
    audit_record(
        action=f"offer_template.{action}",
        target=template,
        actor=actor,
        organization=template.partner,
        acting_organization=_acting(context),
        before=before,
        after=after,
    )


def _decimal(value, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("Enter an amount like 12.50."), field=field) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("10000000000"):
        raise InvalidInput(_("Enter an amount between 0 and 9,999,999,999.99."), field=field)
    return amount.quantize(Decimal("0.01"))


def _int(value, *, field: str, minimum: int, maximum: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(_("Enter a whole number."), field=field) from None
    if not minimum <= number <= maximum:
        raise InvalidInput(_("Enter a number from %(min)s to %(max)s.") % {"min": minimum, "max": maximum}, field=field)
    return number


# --- OFR-2: offer templates -------------------------------------------------------------------------


def _name_taken() -> Conflict:
    return Conflict(_("You already have a template with this name."), code="duplicate", field="name")


@transaction.atomic
def offer_template_create(*, context: OrgContext, name: str, actor) -> OfferTemplate:
    """A partner Owner/Admin names a new, empty template."""
    context.require("offer_templates.manage")
    name = _clean_name(name)
    try:
        with transaction.atomic():
            template = OfferTemplate.objects.create(partner=context.organization, name=name, created_by=actor)
    except IntegrityError:
        raise _name_taken() from None
    _audit_template(template, "created", actor=actor, context=context, after={"name": name})
    return template


def _own_template(template: OfferTemplate, context: OrgContext) -> None:
    context.require("offer_templates.manage")
    if template.partner_id != context.organization.pk:
        raise NotFound(_("Not found."))


@transaction.atomic
def offer_template_rename(*, template: OfferTemplate, context: OrgContext, name: str, actor) -> OfferTemplate:
    _own_template(template, context)
    name = _clean_name(name)
    before = {"name": template.name}
    if name == template.name:
        return template
    try:
        with transaction.atomic():
            OfferTemplate.objects.filter(pk=template.pk).update(name=name, updated_at=timezone.now())
    except IntegrityError:
        raise _name_taken() from None
    template.refresh_from_db()
    _audit_template(template, "renamed", actor=actor, context=context, before=before, after={"name": name})
    return template


@transaction.atomic
def offer_template_delete(*, template: OfferTemplate, context: OrgContext, actor) -> None:
    """Sent offers keep their snapshot (their `template` becomes empty)."""
    _own_template(template, context)
    _audit_template(template, "deleted", actor=actor, context=context, before={"name": template.name})
    template.delete()


@transaction.atomic
def offer_template_add_product(*, template: OfferTemplate, context: OrgContext, product_id, actor) -> OfferTemplateItem:
    """Add one catalog product (saved at once, OFR-2): quantity 1, the product's term, list price."""
    _own_template(template, context)
    try:
        product = Product.objects.filter(pk=int(product_id), is_active=True).first()
    except (TypeError, ValueError):
        product = None
    if product is None:
        raise InvalidInput(_("Choose a product from the catalog."), field="product")
    # Lock the template row: concurrent additions get distinct positions and respect the limit.
    OfferTemplate.objects.select_for_update().filter(pk=template.pk).first()
    if template.items.filter(product=product).exists():
        raise Conflict(
            _("%(product)s is already in this template. Change its quantity instead.") % {"product": product.name},
            code="duplicate_item",
            field="product",
        )
    items = template.items.aggregate(count=Count("id"), last=Max("position"))
    if items["count"] >= MAX_ITEMS:
        raise InvalidInput(_("A template holds at most %(max)s items.") % {"max": MAX_ITEMS}, field="product")
    item = OfferTemplateItem.objects.create(
        template=template,
        product=product,
        quantity=1,
        term_months=product.term_months,
        license_mode=LicenseMode.ABSOLUTE,
        unit_price=product.list_price,
        position=(items["last"] or 0) + 1,
    )
    OfferTemplate.objects.filter(pk=template.pk).update(updated_at=timezone.now())
    _audit_template(template, "item_added", actor=actor, context=context, after={"item": item.pk, "sku": product.sku})
    return item


@transaction.atomic
def offer_template_update_item(
    *,
    item: OfferTemplateItem,
    context: OrgContext,
    actor,
    quantity=None,
    term_months=None,
    license_mode=None,
    unit_price=None,
) -> OfferTemplateItem:
    """Change quantity, term, license mode or selling price of one item (saved at once)."""
    _own_template(item.template, context)
    before = {
        "quantity": item.quantity,
        "term_months": item.term_months,
        "license_mode": item.license_mode,
        "unit_price": str(item.unit_price),
    }
    if quantity not in (None, ""):
        item.quantity = _int(quantity, field="quantity", minimum=1, maximum=100000)
    if term_months not in (None, ""):
        item.term_months = _int(term_months, field="term_months", minimum=1, maximum=120)
    if license_mode not in (None, ""):
        if license_mode not in LicenseMode.values:
            raise InvalidInput(_("Choose absolute or relative."), field="license_mode")
        item.license_mode = license_mode
    if unit_price not in (None, ""):
        item.unit_price = _decimal(unit_price, field="unit_price")
    item.save(update_fields=["quantity", "term_months", "license_mode", "unit_price"])
    after = {
        "quantity": item.quantity,
        "term_months": item.term_months,
        "license_mode": item.license_mode,
        "unit_price": str(item.unit_price),
    }
    if after != before:
        _audit_template(
            item.template,
            "item_changed",
            actor=actor,
            context=context,
            before={"item": item.pk, **before},
            after={"item": item.pk, **after},
        )
    return item


@transaction.atomic
def offer_template_remove_item(*, item: OfferTemplateItem, context: OrgContext, actor) -> None:
    _own_template(item.template, context)
    _audit_template(
        item.template, "item_removed", actor=actor, context=context, before={"item": item.pk, "sku": item.product.sku}
    )
    item.delete()


# --- OFR-3: send ------------------------------------------------------------------------------------


def _customer_for_partner(partner: Organization, customer: Organization | str | None) -> Organization:
    if isinstance(customer, Organization):
        customer = customer.public_id
    found = customers_of_partner(partner=partner).filter(public_id=str(customer or "").strip().upper()).first()
    if found is None:
        raise InvalidInput(_("Choose one of your customer organizations."), field="customer")
    return found


def _snapshot_items(template: OfferTemplate, partner: Organization) -> list[OfferTemplateItem]:
    items = list(template.items.select_related("product").order_by("position", "id"))
    if not items:
        raise InvalidInput(_("This template has no products yet."), field="template")
    return items


def _offer_items_for(offer: Offer, template_items: list[OfferTemplateItem], discount: Decimal) -> list[OfferItem]:
    return [
        OfferItem(
            offer=offer,
            product=t.product,
            kind=t.product.kind,
            sku=t.product.sku,
            name_en=t.product.name_en,
            name_de=t.product.name_de,
            list_price=t.product.list_price,
            purchase_price=partner_price(list_price=t.product.list_price, discount_percent=discount),
            quantity=t.quantity,
            term_months=t.term_months,
            license_mode=t.license_mode,
            unit_price=t.unit_price,
            position=t.position,
        )
        for t in template_items
    ]


def _enqueue_delivery(offer: Offer) -> OutboxMessage:
    return outbox_enqueue(
        kind=DELIVER_KIND,
        payload={"offer_id": offer.pk, "round": offer.delivery_attempt},
        dedupe_key=f"offer-delivery:{offer.pk}:{offer.delivery_attempt}",
    )


def _template_of(context: OrgContext, template: OfferTemplate | int | str | None) -> OfferTemplate:
    if not isinstance(template, OfferTemplate):
        try:
            template = OfferTemplate.objects.filter(pk=int(template), partner=context.organization).first()
        except (TypeError, ValueError):
            template = None
    if template is None or template.partner_id != context.organization.pk:
        raise InvalidInput(_("Choose one of your offer templates."), field="template")
    return template


class DuplicateOffer(Conflict):
    """An open offer of the same template or with the same items already waits at this customer.

    `existing` is that offer; callers show it (page: a link and "Send anyway"; API: its id in
    the error's details) and may repeat the call with `allow_duplicate=True`.
    """

    def __init__(self, existing: Offer):
        super().__init__(
            _(
                "%(customer)s already has an open offer “%(title)s” with the same products, sent on %(date)s. "
                "Withdraw it first, or send anyway."
            )
            % {
                "customer": existing.customer.name,
                "title": existing.title,
                "date": date_format(timezone.localtime(existing.created_at), "DATE_FORMAT"),
            },
            code="duplicate_offer",
            field="allow_duplicate",
            # the existing offer in the API error's details, so a client can link it
            details={
                "existing_offer": {
                    "id": existing.pk,
                    "title": existing.title,
                    "status": existing.status,
                    "created_at": existing.created_at.isoformat(),
                }
            },
        )
        self.existing = existing


def _items_signature(rows) -> tuple:
    """What makes two offers "the same": each product with quantity, term, mode and price."""
    return tuple(
        sorted(
            (row.product_id, row.quantity, row.term_months, row.license_mode, row.unit_price.quantize(Decimal("0.01")))
            for row in rows
        )
    )


def open_duplicate_offer(*, partner: Organization, customer: Organization, template: OfferTemplate, items=None):
    """The open offer (newest first) `partner` sent `customer` from `template` or with the same items."""
    signature = _items_signature(items if items is not None else template.items.all())
    candidates = (
        Offer.objects.filter(partner=partner, customer=customer, status__in=Offer.OPEN_STATUSES)
        .select_related("customer")
        .prefetch_related("items")
        .order_by("-created_at", "-id")
    )
    for candidate in candidates:
        if candidate.template_id == template.pk or _items_signature(candidate.items.all()) == signature:
            return candidate
    return None


@transaction.atomic
def offer_send(
    *, context: OrgContext, template, customer, message: str = "", actor, allow_duplicate: bool = False
) -> Offer:
    """A partner Owner/Admin sends a template to one of its customers (OFR-3).

    Items and prices are copied (later template edits change nothing); the partner's purchase
    price is recorded for the partner's eyes only. Delivery runs in the background (OFR-4) from an
    outbox row stored in this transaction, so nothing is lost if Redis is down.
    """
    context.require("offers.send")
    partner = context.organization
    template = _template_of(context, template)
    customer = _customer_for_partner(partner, customer)
    message = _clean_text(message, field="message")
    template_items = _snapshot_items(template, partner)
    if not allow_duplicate:
        # Serialise sends to one customer, so two clicks at once cannot both pass this check.
        Organization.objects.select_for_update().filter(pk=customer.pk).first()
        existing = open_duplicate_offer(partner=partner, customer=customer, template=template, items=template_items)
        if existing is not None:
            raise DuplicateOffer(existing)
    offer = Offer.objects.create(
        partner=partner, customer=customer, template=template, title=template.name, message=message, sent_by=actor
    )
    OfferItem.objects.bulk_create(_offer_items_for(offer, template_items, partner_discount_percent(partner=partner)))
    _audit_offer(offer, "sent", actor=actor, context=context, extra={"template": template.pk})
    _enqueue_delivery(offer)
    return offer


# --- OFR-4: delivery --------------------------------------------------------------------------------


def webhook_payload(offer: Offer) -> dict:
    """What the customer's system receives – the customer's view: no partner conditions."""
    items = list(offer.items.order_by("position", "id"))
    return {
        "event": "offer.waiting_for_confirmation",
        "offer": {
            "id": offer.pk,
            "title": offer.title,
            "message": offer.message,
            "partner": {"public_id": offer.partner.public_id, "name": offer.partner.name},
            "customer": {"public_id": offer.customer.public_id, "name": offer.customer.name},
            "sent_at": offer.created_at.isoformat(),
            "items": [
                {
                    "sku": item.sku,
                    "name_en": item.name_en,
                    "name_de": item.name_de,
                    "kind": item.kind,
                    "quantity": item.quantity,
                    "term_months": item.term_months,
                    "license_mode": item.license_mode,
                    "unit_price": str(item.unit_price),
                    "total_price": str(item.total_price),
                }
                for item in items
            ],
            "total_price": str(sum((item.total_price for item in items), Decimal("0.00"))),
            "currency": "EUR",
            "url": settings.PORTAL_BASE_URL + f"/o/{offer.customer.public_id}/offers/{offer.pk}/",
        },
    }


def offer_deliver(*, offer_id: int, round: int | None = None) -> str:
    """The delivery task's work (OFR-4); safe to run any number of times.

    1. If the customer configured a webhook and this round's webhook was not delivered yet: record
       the attempt and its delivery id (a conditional UPDATE, committed), then post it signed. A
       failure raises `RetryLater` (the outbox retries with backoff, and after the last attempt
       `offer_delivery_failed` records `delivery_failed`).
    2. In one transaction: `waiting → waiting_for_confirmation` (conditional UPDATE), the
       notifications and the outbox emails. A second run finds the offer moved and does nothing.

    Guarantee: one state change, one notification, one email per recipient; the webhook is posted
    at least once and, barring a crash, once. Concurrent runs never post at the same time (the
    recorded attempt). A worker that dies after the POST and before recording its success leaves an
    attempt without success: a later run posts again – only after `OFFER_WEBHOOK_TIMEOUT_SECONDS`
    have passed since that attempt, and with the same `X-Portal-Delivery` id, which the receiver
    uses to drop the repeat.
    """
    offer = Offer.objects.select_related("partner", "customer").filter(pk=offer_id).first()
    if offer is None or offer.status != Status.WAITING or (round is not None and offer.delivery_attempt != round):
        return "skipped"
    endpoint = WebhookEndpoint.objects.filter(organization=offer.customer, is_active=True).first()
    if endpoint is not None and offer.webhook_delivered_at is None:
        _deliver_webhook(offer, endpoint)
    with transaction.atomic():
        try:
            transition(
                offer,
                Status.WAITING_FOR_CONFIRMATION,
                sources={Status.WAITING},
                delivered_at=timezone.now(),
                last_delivery_error="",
            )
        except Conflict:
            return "skipped"  # cancelled meanwhile, or another run delivered it
        notify_customer_received(offer)
        _audit_offer(offer, "delivered", actor=None, before={"status": Status.WAITING})
    return "delivered"


def _deliver_webhook(offer: Offer, endpoint: WebhookEndpoint) -> None:
    """Post this round's webhook unless another run is posting it right now (see `offer_deliver`)."""
    delivery_id = f"offer-{offer.pk}-{offer.delivery_attempt}"
    attempted_at = timezone.now()
    in_flight_until = attempted_at - timedelta(seconds=getattr(settings, "OFFER_WEBHOOK_TIMEOUT_SECONDS", 10) + 5)
    recorded = Offer.objects.filter(
        Q(webhook_attempted_at__isnull=True) | Q(webhook_attempted_at__lt=in_flight_until),
        pk=offer.pk,
        status=Status.WAITING,
        delivery_attempt=offer.delivery_attempt,
        webhook_delivered_at__isnull=True,
    ).update(webhook_attempted_at=attempted_at, webhook_delivery_id=delivery_id)
    if not recorded:
        current = Offer.objects.filter(pk=offer.pk).values("status", "webhook_delivered_at").first()
        if current and current["status"] == Status.WAITING and current["webhook_delivered_at"] is None:
            raise RetryLater("The webhook is being posted by another run")
        return  # delivered or moved on meanwhile: the transition below sorts it out
    try:
        webhook_post(
            url=endpoint.url,
            secret=endpoint.secret,
            event="offer.waiting_for_confirmation",
            delivery_id=delivery_id,
            payload=webhook_payload(offer),
        )
    except WebhookFailed as error:
        # The request is over (it failed): the next retry need not wait for it.
        Offer.objects.filter(pk=offer.pk, webhook_attempted_at=attempted_at).update(
            last_delivery_error=str(error)[:2000], webhook_attempted_at=None
        )
        raise RetryLater(str(error)) from error
    Offer.objects.filter(pk=offer.pk, webhook_delivered_at__isnull=True).update(webhook_delivered_at=timezone.now())


def offer_delivery_failed(payload: dict) -> None:
    """All attempts failed: `waiting → delivery_failed`; the partner is told and may retry."""
    with transaction.atomic():
        offer = Offer.objects.select_related("partner", "customer").filter(pk=payload["offer_id"]).first()
        if offer is None or offer.delivery_attempt != payload.get("round", offer.delivery_attempt):
            return
        try:
            transition(offer, Status.DELIVERY_FAILED, sources={Status.WAITING})
        except Conflict:
            return
        notify_partner(offer, "delivery_failed")
        _audit_offer(
            offer,
            "delivery_failed",
            actor=None,
            before={"status": Status.WAITING},
            organization=offer.partner,
            extra={"error": offer.last_delivery_error[:500]},
        )


def _own_sent_offer(offer: Offer, context: OrgContext) -> None:
    context.require("offers.send")
    _require_side(context, "partner")
    if offer.partner_id != context.organization.pk:
        raise NotFound(_("Not found."))


@transaction.atomic
def offer_retry_delivery(*, offer: Offer, context: OrgContext, actor) -> Offer:
    """`delivery_failed → waiting` and a new delivery round (OFR-4)."""
    _own_sent_offer(offer, context)
    transition(
        offer,
        Status.WAITING,
        sources={Status.DELIVERY_FAILED},
        delivery_attempt=offer.delivery_attempt + 1,
        webhook_delivered_at=None,
        webhook_attempted_at=None,
    )
    _audit_offer(
        offer,
        "delivery_retried",
        actor=actor,
        context=context,
        before={"status": Status.DELIVERY_FAILED},
        organization=offer.partner,
    )
    _enqueue_delivery(offer)
    return offer


# --- OFR-5: cancel ----------------------------------------------------------------------------------


@transaction.atomic
def offer_cancel(*, offer: Offer, context: OrgContext | None, actor, reason: str = "") -> Offer:
    """The partner withdraws an open offer (waiting, waiting for confirmation, delivery failed)."""
    if context is not None:
        _own_sent_offer(offer, context)
    before = {"status": offer.status}
    was_visible = offer.status == Status.WAITING_FOR_CONFIRMATION
    transition(
        offer,
        Status.CANCELLED,
        cancelled_by=actor if getattr(actor, "is_authenticated", False) else None,
        cancelled_at=timezone.now(),
    )
    _audit_offer(
        offer, "cancelled", actor=actor, context=context, before=before, extra={"reason": reason} if reason else None
    )
    if was_visible:
        notify_customer(offer, "cancelled")
    return offer


@on("customer_relation.ended")
def _cancel_open_offers_of_ended_relation(*, relation, actor, **kwargs) -> None:
    """ORG-3: once a relation ends the partner can no longer reach the customer – its open offers end."""
    for offer in Offer.objects.select_related("partner", "customer").filter(
        partner_id=relation.partner_id, customer_id=relation.customer_id, status__in=Offer.OPEN_STATUSES
    ):
        try:
            with transaction.atomic():
                offer_cancel(offer=offer, context=None, actor=actor, reason="customer relation ended")
        except Conflict:
            continue


# --- OFR-6: the customer decides --------------------------------------------------------------------


def _received_offer(offer: Offer, context: OrgContext) -> None:
    # `offers.decide` is a consent (organizations.roles): partner staff acting inside the customer
    # get 403 here too, so no caller of the service can accept the partner's own offer for it.
    context.require("offers.decide")
    _require_side(context, "customer")
    if offer.customer_id != context.organization.pk:
        raise NotFound(_("Not found."))


def _license_items(offer: Offer, accepted_on: date) -> list[dict]:
    items = list(offer.items.order_by("position", "id"))
    rows = []
    for item in items:
        # The last day covered (inclusive): a 12-month term from 3 March ends on 2 March, and
        # billing's subscription ends at the midnight after it, i.e. exactly the term later.
        ends_on = (
            accepted_on + relativedelta(months=item.term_months) - timedelta(days=1)
            if item.license_mode == LicenseMode.ABSOLUTE
            else None
        )
        if ends_on is not None:
            OfferItem.objects.filter(pk=item.pk).update(ends_on=ends_on)
        rows.append(
            {
                "item_id": item.pk,
                "product_id": item.product_id,
                "quantity": item.quantity,
                "term_months": item.term_months,
                "license_mode": item.license_mode,
                "ends_on": ends_on,
                "unit_price": item.unit_price,
            }
        )
    return rows


@transaction.atomic
def offer_accept(*, offer: Offer, context: OrgContext, actor) -> Offer:
    """A customer's own Owner/Admin accepts (OFR-6), never partner staff acting inside (issue 11).
    Exactly one accept or cancel wins (OFR-7).

    The licenses are provisioned once, in this transaction: the "offer.accepted" hook lets billing
    create the subscriptions (BIL-1); without billing the accepted items, with their end dates,
    stay the license record billing takes over.
    """
    _received_offer(offer, context)
    now = timezone.now()
    transition(
        offer,
        Status.ACCEPTED,
        sources={Status.WAITING_FOR_CONFIRMATION},
        decided_by=actor,
        decided_at=now,
        licenses_provisioned_at=now,
    )
    items = _license_items(offer, timezone.localdate(now))
    run_hooks(
        "offer.accepted", offer_id=offer.pk, partner=offer.partner, customer=offer.customer, items=items, actor=actor
    )
    _audit_offer(offer, "accepted", actor=actor, context=context, before={"status": Status.WAITING_FOR_CONFIRMATION})
    notify_partner(offer, "accepted")
    return offer


@transaction.atomic
def offer_decline(*, offer: Offer, context: OrgContext, actor, reason: str = "") -> Offer:
    _received_offer(offer, context)
    reason = _clean_text(reason, field="reason")
    transition(
        offer,
        Status.DECLINED,
        sources={Status.WAITING_FOR_CONFIRMATION},
        decided_by=actor,
        decided_at=timezone.now(),
        decline_reason=reason,
    )
    _audit_offer(
        offer,
        "declined",
        actor=actor,
        context=context,
        before={"status": Status.WAITING_FOR_CONFIRMATION},
        extra={"reason": reason} if reason else None,
    )
    notify_partner(offer, "declined")
    return offer


# --- bulk send --------------------------------------------------------------------------------------


@transaction.atomic
def offer_bulk_send_start(
    *, context: OrgContext, template, message: str = "", customers: list[str] | None = None, actor
) -> OfferBulkSend:
    """Send one template to many customers (all active ones, or the given identifiers) in the background."""
    context.require("offers.send")
    partner = context.organization
    template = _template_of(context, template)
    _snapshot_items(template, partner)
    message = _clean_text(message, field="message")
    eligible = customers_of_partner(partner=partner)
    if customers:
        wanted = {str(c).strip().upper() for c in customers if str(c).strip()}
        if len(wanted) > MAX_BULK_CUSTOMERS:
            raise InvalidInput(_("At most %(max)s customers at once.") % {"max": MAX_BULK_CUSTOMERS}, field="customers")
        ids = list(eligible.filter(public_id__in=wanted).values_list("pk", flat=True))
        if len(ids) != len(wanted):
            raise InvalidInput(_("Some identifiers are not among your customer organizations."), field="customers")
    else:
        ids = list(eligible.values_list("pk", flat=True)[: MAX_BULK_CUSTOMERS + 1])
        if len(ids) > MAX_BULK_CUSTOMERS:
            raise InvalidInput(_("At most %(max)s customers at once.") % {"max": MAX_BULK_CUSTOMERS}, field="customers")
    if not ids:
        raise InvalidInput(_("You have no customer organizations to send to."), field="customers")
    bulk = OfferBulkSend.objects.create(
        partner=partner,
        template=template,
        title=template.name,
        message=message,
        customer_ids=ids,
        total=len(ids),
        created_by=actor,
    )
    audit_record(
        action="offer_bulk_send.started",
        target=bulk,
        actor=actor,
        organization=partner,
        acting_organization=_acting(context),
        after={"template": template.pk, "total": len(ids)},
    )
    outbox_enqueue(kind=BULK_SEND_KIND, payload={"bulk_send_id": bulk.pk}, dedupe_key=f"offer-bulk-send:{bulk.pk}")
    return bulk


def offer_bulk_send_process(*, bulk_send_id: int) -> OfferBulkSend | None:
    """The bulk job: offers in chunks, each chunk one transaction, progress after each (idempotent).

    A customer that already got its offer from this bulk send (a re-run) is skipped by the unique
    constraint; one no longer linked, or with an open offer of the same template, is counted as
    skipped.
    """
    bulk = OfferBulkSend.objects.select_related("partner", "template").filter(pk=bulk_send_id).first()
    if bulk is None or bulk.status == OfferBulkSend.Status.DONE:
        return bulk
    partner = bulk.partner
    if bulk.template is None:  # deleted meanwhile: nothing left to snapshot
        OfferBulkSend.objects.filter(pk=bulk.pk).update(
            status=OfferBulkSend.Status.DONE,
            finished_at=timezone.now(),
            skipped_count=bulk.total - bulk.sent_count,
        )
        return bulk
    template_items = list(bulk.template.items.select_related("product").order_by("position", "id"))
    discount = partner_discount_percent(partner=partner)
    ids = list(bulk.customer_ids)
    for start in range(0, len(ids), BULK_CHUNK):
        chunk = ids[start : start + BULK_CHUNK]
        with transaction.atomic():
            done = set(
                Offer.objects.filter(bulk_send=bulk, customer_id__in=chunk).values_list("customer_id", flat=True)
            )
            todo = [pk for pk in chunk if pk not in done]
            linked = set(customers_of_partner(partner=partner).filter(pk__in=todo).values_list("pk", flat=True))
            # Duplicate protection: a customer with an open offer of this template (sent alone or
            # by another bulk send) is skipped, not sent the same offer twice.
            linked -= set(
                Offer.objects.filter(
                    partner=partner, template=bulk.template, customer_id__in=linked, status__in=Offer.OPEN_STATUSES
                )
                .exclude(bulk_send=bulk)
                .values_list("customer_id", flat=True)
            )
            offers = Offer.objects.bulk_create(
                [
                    Offer(
                        partner=partner,
                        customer_id=pk,
                        template=bulk.template,
                        title=bulk.title,
                        message=bulk.message,
                        sent_by_id=bulk.created_by_id,
                        bulk_send=bulk,
                    )
                    for pk in todo
                    if pk in linked
                ]
            )
            OfferItem.objects.bulk_create(
                [item for offer in offers for item in _offer_items_for(offer, template_items, discount)]
            )
            _bulk_audit_and_enqueue(offers, bulk)
            # Progress counts from the rows themselves, so a re-run after a crash stays exact.
            processed = start + len(chunk)
            sent = Offer.objects.filter(bulk_send=bulk).count()
            OfferBulkSend.objects.filter(pk=bulk.pk).update(sent_count=sent, skipped_count=max(0, processed - sent))
    OfferBulkSend.objects.filter(pk=bulk.pk).update(status=OfferBulkSend.Status.DONE, finished_at=timezone.now())
    bulk.refresh_from_db()
    return bulk


def _bulk_audit_and_enqueue(offers: list[Offer], bulk: OfferBulkSend) -> None:
    """Audit events and delivery rows for a chunk in three INSERTs (not three per offer)."""
    if not offers:
        return
    now = timezone.now()
    customers = dict(Organization.objects.filter(pk__in=[o.customer_id for o in offers]).values_list("pk", "public_id"))
    actor = bulk.created_by if bulk.created_by_id else None
    events = []
    for offer in offers:
        after = {
            "status": offer.status,
            "customer": customers[offer.customer_id],
            "title": offer.title,
            "bulk_send": bulk.pk,
        }
        for trail in (offer.partner_id, offer.customer_id):
            events.append(
                audit_event_build(
                    action="offer.sent",
                    target=offer,
                    target_repr=offer.title,
                    actor=actor,
                    organization_id=trail,
                    acting_organization_id=offer.partner_id,
                    after=after,
                    created_at=now,
                )
            )
    audit_record_many(events)
    messages = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                kind=DELIVER_KIND,
                payload={"offer_id": offer.pk, "round": offer.delivery_attempt},
                dedupe_key=f"offer-delivery:{offer.pk}:{offer.delivery_attempt}",
            )
            for offer in offers
        ]
    )
    ids = [message.pk for message in messages]
    transaction.on_commit(lambda: [outbox_publish(message_id=pk, kind=DELIVER_KIND) for pk in ids])


# --- webhook settings (customer) --------------------------------------------------------------------


@transaction.atomic
def webhook_settings_save(
    *, context: OrgContext, url: str, secret: str = "", is_active: bool = True, actor
) -> WebhookEndpoint:
    """A customer Owner/Admin sets where offers are posted and the secret that signs them.

    An empty secret keeps the stored one; a new endpoint needs one (at least 16 characters).
    """
    context.require("webhooks.manage")
    url = (url or "").strip()
    if not url.lower().startswith(("https://", "http://")) or len(url) > 500:
        raise InvalidInput(_("Enter an http(s) URL."), field="url")
    if getattr(settings, "OFFER_WEBHOOK_REQUIRE_HTTPS", not settings.DEBUG) and not url.lower().startswith("https://"):
        raise InvalidInput(_("The webhook URL must use https."), field="url")
    secret = (secret or "").strip()
    endpoint = WebhookEndpoint.objects.select_for_update().filter(organization=context.organization).first()
    if secret and not 16 <= len(secret) <= 200:
        raise InvalidInput(_("The secret must have 16 to 200 characters."), field="secret")
    if endpoint is None and not secret:
        raise InvalidInput(_("Set a secret of at least 16 characters."), field="secret")
    before = {"url": endpoint.url, "is_active": endpoint.is_active} if endpoint else None
    if endpoint is None:
        endpoint = WebhookEndpoint(organization=context.organization)
    endpoint.url, endpoint.is_active = url, bool(is_active)
    if secret:
        endpoint.secret = secret
    endpoint.save()
    audit_record(
        action="offer_webhook.saved",
        target=endpoint,
        actor=actor,
        organization=context.organization,
        acting_organization=_acting(context),
        before=before,
        after={"url": url, "is_active": endpoint.is_active, "secret_changed": bool(secret)},
    )
    return endpoint


@transaction.atomic
def webhook_settings_delete(*, context: OrgContext, actor) -> None:
    context.require("webhooks.manage")
    endpoint = WebhookEndpoint.objects.filter(organization=context.organization).first()
    if endpoint is None:
        return
    audit_record(
        action="offer_webhook.deleted",
        target=endpoint,
        actor=actor,
        organization=context.organization,
        acting_organization=_acting(context),
        before={"url": endpoint.url},
    )
    endpoint.delete()
