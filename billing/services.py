"""Writes of subscriptions (BIL-1 … BIL-4, BIL-7, PRJ-5).

Who may call what:
- `subscription_book`, `subscription_change_quantity`, `subscription_cancel`: views and the API
  after `OrgContext.require("billing.manage")` – partner Owners/Admins inside a linked customer
  org, Owners/Admins of a partner org or a direct customer. The customer's own accounts in a
  partner-linked org never get there (ORG-6 answers 404); the services check the capability again.
- `service_order`: anyone holding the project's "order paid services" permission (PRJ-5); the
  service checks it itself through `projects.selectors.project_require`.
- hooks (registered in `BillingConfig.ready`): `trial_start` ("organization.created"),
  `subscriptions_from_offer` ("offer.accepted"), `subscriptions_end_for_relation`
  ("customer_relation.ended"); they run inside the caller's transaction.
- `subscriptions_process_due`: the periodic job (records expiries, starts renewal terms).
- `subscription_flags_refresh`: the periodic job keeping the customer table's stored flags.

Every change is atomic, audited in the subscriber's trail (ORG-10), and status changes go through
`portal.state_machine.transition`, so of two concurrent changes exactly one wins (409 for the other).
"""

from __future__ import annotations

import calendar
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, Exists, F, Min, OuterRef, Q, Subquery, When
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.models import Product
from organizations.models import CustomerRelation, Organization
from organizations.roles import OrgKind
from portal.audit import audit_record
from portal.errors import Conflict, InvalidInput, NotFound
from portal.hooks import on
from portal.state_machine import transition
from portal.tenancy import OrgContext, active_reseller_of
from projects.models import Project
from projects.roles import ProjectAction
from projects.selectors import project_require

from .models import ProductBilling, Subscription, SubscriptionChange, SubscriptionTerm
from .selectors import price_quote

Status = Subscription.Status
Source = Subscription.Source

MAX_QUANTITY = 10_000
TRIAL_PRODUCT_SKU = getattr(settings, "TRIAL_PRODUCT_SKU", "PORTAL-LICENSE")


# --- helpers -----------------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus whole calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def payer_for(organization: Organization) -> Organization:
    """BIL-4: the active reseller partner of a linked customer, otherwise the org itself.

    Caretakers never appear here: a delegation changes nothing about who owns the project.
    """
    return active_reseller_of(organization) or organization


def payer_in(context: OrgContext) -> Organization:
    """`payer_for(context.organization)` from what the org context has read already: a customer's
    active reseller (`OrgContext.reseller`, the same rule); a partner org never has one (partners
    cannot become customers: `organizations.services.relations`), as the context assumes too."""
    return context.reseller or context.organization


def unit_price_for(*, product: Product, payer: Organization) -> Decimal:
    """The net monthly price per unit the payer is invoiced: partner conditions for partners
    (OFR-1: list price less the tier or individual discount), the list price for everybody else."""
    return price_quote(product=product, quantity=1, payer=payer).unit_price


def _state(subscription: Subscription) -> dict:
    return {
        "product": subscription.product.sku,
        "quantity": subscription.quantity,
        "unit_price": str(subscription.unit_price),
        "status": subscription.status,
        "payer": subscription.payer.public_id,
        "term_ends_at": subscription.term_ends_at.isoformat(),
        "ends_at": subscription.ends_at.isoformat() if subscription.ends_at else None,
    }


def _audit(
    subscription: Subscription,
    action: str,
    *,
    actor,
    context=None,
    acting_organization=None,
    before=None,
    after=None,
    organization=None,
):
    audit_record(
        action=f"subscription.{action}",
        target=subscription,
        actor=actor,
        organization=organization or subscription.organization,
        acting_organization=acting_organization or (context.acting_organization if context else None),
        before=before,
        after=after or _state(subscription),
    )


# --- BIL-8: the effective-dated history (`SubscriptionTerm`) ------------------------------------


def next_period_start(moment: datetime | None = None) -> datetime:
    """Midnight (the portal's time zone) of the 1st of the month after `moment`: "the next period"."""
    local = timezone.localtime(moment or timezone.now())
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return timezone.make_aware(datetime(year, month, 1))


def _term_open(subscription: Subscription) -> SubscriptionTerm:
    """The first history row of a new subscription: its state from the start to its end."""
    return SubscriptionTerm.objects.create(
        subscription=subscription,
        valid_from=subscription.starts_at,
        valid_until=subscription.ends_at,
        quantity=subscription.quantity,
        unit_price=subscription.unit_price,
        payer_id=subscription.payer_id,
    )


def _terms_ensure(subscription: Subscription) -> None:
    """Rows created outside the services (bulk seeds, old fixtures) get their history on first change."""
    if not SubscriptionTerm.objects.filter(subscription=subscription).exists():
        _term_open(subscription)


def _term_change(subscription: Subscription, *, effective_at: datetime, **changes) -> None:
    """From `effective_at` on, the subscription's state has `changes` (quantity, unit_price,
    payer_id): the row in force then is split there, later rows (scheduled changes) take the new
    values too – the latest decision wins. Call with the row locked and still in its old state."""
    _terms_ensure(subscription)
    terms = list(
        SubscriptionTerm.objects.select_for_update()
        .filter(subscription=subscription)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=effective_at))
        .order_by("valid_from")
    )
    for term in terms:
        if all(getattr(term, field) == value for field, value in changes.items()):
            continue
        if term.valid_from < effective_at:
            tail = SubscriptionTerm(
                subscription=subscription,
                valid_from=effective_at,
                valid_until=term.valid_until,
                quantity=term.quantity,
                unit_price=term.unit_price,
                payer_id=term.payer_id,
            )
            term.valid_until = effective_at
            term.save(update_fields=["valid_until"])
            term = tail
        for field, value in changes.items():
            setattr(term, field, value)
        term.save()


def _term_end(subscription: Subscription, *, ends_at: datetime) -> None:
    """The subscription stops at `ends_at`: later rows go, the row in force then is closed there."""
    _terms_ensure(subscription)
    SubscriptionTerm.objects.filter(subscription=subscription, valid_from__gte=ends_at).delete()
    SubscriptionTerm.objects.filter(subscription=subscription).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=ends_at)
    ).update(valid_until=ends_at)


def _clean_quantity(quantity) -> int:
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise InvalidInput(_("Please enter a whole number of licences."), field="quantity") from None
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise InvalidInput(_("The quantity must be between 1 and %(max)s.") % {"max": MAX_QUANTITY}, field="quantity")
    return quantity


def _require_confirmation(confirm_obligation_to_pay) -> None:
    # BIL-3: an explicit "order with obligation to pay" – only a real True counts, never "yes" or 1.
    if confirm_obligation_to_pay is not True:
        raise InvalidInput(
            _("Please confirm that you order with obligation to pay."), field="confirm_obligation_to_pay"
        )


def _require_bookable(product: Product) -> None:
    if product is None or not product.is_active:
        raise InvalidInput(_("This product cannot be booked."), field="product")


def _main_products_of(add_on: Product) -> list[Product]:
    return list(Product.objects.filter(add_on_products__product=add_on).order_by("sku"))


def _require_add_on_to(product: Product, parent: Subscription) -> None:
    """The catalog says which products an add-on belongs to (`ProductBilling.add_on_to`)."""
    if ProductBilling.objects.filter(product=product, add_on_to=parent.product_id).exists():
        return
    raise InvalidInput(
        _("“%(add_on)s” is not an add-on to “%(product)s”. Choose one of the add-ons offered for it.")
        % {"add_on": product.name, "product": parent.product.name},
        field="product",
    )


def _require_main_product(product: Product) -> None:
    """An add-on is booked to its main subscription, never on its own."""
    main_products = _main_products_of(product)
    if main_products:
        raise InvalidInput(
            _("“%(add_on)s” is an add-on. Book it from a subscription of: %(products)s.")
            % {"add_on": product.name, "products": ", ".join(main.name for main in main_products)},
            field="product",
        )


def _create(subscription: Subscription, *, duplicate_message: str) -> Subscription:
    """Insert; a unique constraint hit (a concurrent or earlier booking) becomes a Conflict."""
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError as error:
        raise Conflict(duplicate_message, code="already_booked") from error
    _term_open(subscription)
    return subscription


# --- BIL-2: trial ------------------------------------------------------------------------------


def trial_product() -> Product:
    """The product trial licences are of (`settings.TRIAL_PRODUCT_SKU`), created on first use."""
    product = Product.objects.filter(sku=TRIAL_PRODUCT_SKU).first()
    if product is None:
        try:
            with transaction.atomic():
                product = Product.objects.create(
                    sku=TRIAL_PRODUCT_SKU,
                    kind=Product.Kind.MODULE,
                    name_en="Portal licence",
                    name_de="Portal-Lizenz",
                    term_months=1,
                    list_price=Decimal("0.00"),
                )
        except IntegrityError:
            product = Product.objects.get(sku=TRIAL_PRODUCT_SKU)
    return product


@on("organization.created")
def trial_start(*, organization: Organization, actor=None, **_ignored) -> Subscription | None:
    """Hook "organization.created" (BIL-2): a new customer org gets `TRIAL_LICENSES` licences for
    `TRIAL_DAYS` days, free of charge. Idempotent: a second call finds the trial and does nothing."""
    if organization.kind != OrgKind.CUSTOMER:
        return None
    existing = Subscription.objects.filter(organization=organization, source=Source.TRIAL).first()
    if existing is not None:
        return existing
    now = timezone.now()
    ends = now + timedelta(days=settings.TRIAL_DAYS)
    subscription = Subscription(
        organization=organization,
        payer=organization,
        product=trial_product(),
        source=Source.TRIAL,
        status=Status.TRIAL,
        quantity=settings.TRIAL_LICENSES,
        unit_price=Decimal("0.00"),
        term_months=1,
        renews=False,
        starts_at=now,
        term_ends_at=ends,
        ends_at=ends,
        booked_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError:  # a concurrent call started it
        return Subscription.objects.get(organization=organization, source=Source.TRIAL)
    _term_open(subscription)
    _audit(subscription, "trial_started", actor=actor)
    return subscription


# --- BIL-3: booking, quantity, cancellation ----------------------------------------------------


@transaction.atomic
def subscription_book(
    *,
    context: OrgContext,
    product: Product,
    quantity,
    confirm_obligation_to_pay,
    actor,
    parent: Subscription | None = None,
) -> Subscription:
    """Book `product` (or an add-on to `parent`) for the org of `context` at the payer's price.

    Needs "billing.manage" (ORG-6: never the customer's own accounts in a partner-linked org) and
    `confirm_obligation_to_pay is True`. The payer is set here (BIL-4), never by the caller. A
    second open booking of the same product (also a concurrent one) is a Conflict: change the
    quantity instead.
    """
    context.require("billing.manage")
    _require_confirmation(confirm_obligation_to_pay)
    _require_bookable(product)
    quantity = _clean_quantity(quantity)
    organization = context.organization
    if organization.status != Organization.Status.ACTIVE:
        raise Conflict(_("This organization is archived."), code="organization_archived")
    payer = payer_for(organization)
    now = timezone.now()
    if parent is not None:
        parent = Subscription.objects.select_for_update().filter(pk=parent.pk, organization=organization).first()
        if parent is None or parent.is_add_on:
            raise InvalidInput(_("Add-ons can only be booked to a subscription of this organization."), field="parent")
        if parent.status != Status.ACTIVE or not parent.is_in_force(now):
            raise Conflict(_("Add-ons can only be booked to an active subscription."), code="parent_not_active")
        if parent.product_id == product.pk:
            raise InvalidInput(_("An add-on must be a different product."), field="product")
        _require_add_on_to(product, parent)
        term_ends_at, ends_at, renews, term_months = (
            parent.term_ends_at,
            parent.ends_at,
            parent.renews,
            parent.term_months,
        )
    else:
        _require_main_product(product)
        term_months = product.term_months
        term_ends_at = add_months(now, term_months)
        ends_at, renews = None, True
    subscription = Subscription(
        organization=organization,
        payer=payer,
        product=product,
        parent=parent,
        source=Source.PARTNER_ORDER if context.acting_as_partner else Source.DIRECT_ORDER,
        status=Status.ACTIVE,
        quantity=quantity,
        unit_price=unit_price_for(product=product, payer=payer),
        term_months=term_months,
        renews=renews,
        starts_at=now,
        term_ends_at=term_ends_at,
        ends_at=ends_at,
        booked_by=actor,
    )
    _create(
        subscription,
        duplicate_message=_("This product is already booked for this organization. Change its quantity instead."),
    )
    _audit(subscription, "add_on_booked" if parent else "booked", actor=actor, context=context)
    return subscription


@transaction.atomic
def subscription_change_quantity(*, subscription: Subscription, quantity, actor, context: OrgContext) -> Subscription:
    """Change the number of licences from now on (BIL-3). Only active subscriptions; trials keep
    their size. Concurrent changes are serialised by a row lock: both apply, in order, and each
    audit event's "before" is the previous one's "after"."""
    context.require("billing.manage")
    quantity = _clean_quantity(quantity)
    locked = Subscription.objects.select_for_update().select_related("product", "payer").get(pk=subscription.pk)
    if locked.organization_id != context.organization.pk:
        raise NotFound(_("Not found."))
    if locked.status != Status.ACTIVE or not locked.is_in_force():
        raise Conflict(
            _("Only active subscriptions can change their quantity (this one is “%(status)s”).")
            % {"status": locked.get_current_status_display()},
            code="invalid_transition",
        )
    if locked.quantity == quantity:
        # Also withdraws a scheduled reduction: the count stays as it is.
        _term_change(locked, effective_at=timezone.now(), quantity=quantity)
        return locked
    before = _state(locked)
    if quantity < locked.quantity and locked.product.reductions_at_term_end:
        # BIL-8: the customer committed to the term; fewer licences from its end on.
        effective_at, now = locked.term_ends_at, timezone.now()
        while effective_at <= now:  # the renewal job has not started the next term yet
            effective_at = add_months(effective_at, locked.term_months)
        _term_change(locked, effective_at=effective_at, quantity=quantity)
        after = {**before, "quantity": quantity}
        _audit(locked, "quantity_change_scheduled", actor=actor, context=context, before=before, after=after)
        return locked
    _term_change(locked, effective_at=timezone.now(), quantity=quantity)
    locked.quantity = quantity
    locked.save(update_fields=["quantity", "updated_at"])
    _audit(locked, "quantity_changed", actor=actor, context=context, before=before)
    return locked


def _end_add_ons(parent: Subscription, *, ends_at: datetime, actor, context=None, acting_organization=None, reason=""):
    for add_on in (
        Subscription.objects.select_for_update()
        .filter(parent=parent, status=Status.ACTIVE)
        .select_related("product", "payer", "organization")
    ):
        before = _state(add_on)
        end = min(ends_at, add_on.ends_at) if add_on.ends_at else ends_at
        transition(add_on, Status.CANCELLED, cancelled_at=timezone.now(), renews=False, ends_at=end, end_reason=reason)
        _term_end(add_on, ends_at=end)
        _audit(
            add_on, "cancelled", actor=actor, context=context, acting_organization=acting_organization, before=before
        )


@transaction.atomic
def subscription_cancel(*, subscription: Subscription, actor, context: OrgContext) -> Subscription:
    """Cancel at the end of the current term (BIL-3): in force and invoiced until then, no renewal.
    Its add-ons end with it. A second cancellation (also a concurrent one) is a Conflict."""
    context.require("billing.manage")
    if subscription.organization_id != context.organization.pk:
        raise NotFound(_("Not found."))
    before = _state(subscription)
    if subscription.status == Status.ACTIVE and not subscription.is_in_force():
        raise Conflict(_("This subscription has already ended."), code="invalid_transition")
    end = subscription.ends_at or subscription.term_ends_at
    transition(
        subscription,
        Status.CANCELLED,
        sources={Status.ACTIVE},
        cancelled_at=timezone.now(),
        renews=False,
        ends_at=end,
        end_reason=_("Cancelled at the end of the term."),
    )
    _term_end(subscription, ends_at=end)
    _end_add_ons(
        subscription, ends_at=end, actor=actor, context=context, reason=_("The main subscription was cancelled.")
    )
    _audit(subscription, "cancelled", actor=actor, context=context, before=before)
    return subscription


# --- PRJ-5: paid services on a project ---------------------------------------------------------


@transaction.atomic
def service_order(*, project: Project, product: Product, quantity, confirm_obligation_to_pay, actor) -> Subscription:
    """Order a catalog service for a project (PRJ-5), billed per BIL-4.

    Only holders of the project's "order paid services" permission (project Admins, inherited by
    the org's Owners/Admins and the reseller's Owners/Admins); Developers, Viewers and caretakers
    (External) get PermissionDenied. The project's org is the subscriber; its reseller pays where
    it has one, else the org itself – never a caretaker.
    """
    project_require(user=actor, project=project, action=ProjectAction.ORDER_SERVICES)
    _require_confirmation(confirm_obligation_to_pay)
    _require_bookable(product)
    if product.kind != Product.Kind.SERVICE:
        raise InvalidInput(_("Only services can be ordered for a project."), field="product")
    quantity = _clean_quantity(quantity)
    organization = project.organization
    payer = payer_for(organization)
    now = timezone.now()
    subscription = Subscription(
        organization=organization,
        payer=payer,
        product=product,
        project=project,
        source=Source.SERVICE_ORDER,
        status=Status.ACTIVE,
        quantity=quantity,
        unit_price=unit_price_for(product=product, payer=payer),
        term_months=product.term_months,
        renews=True,
        starts_at=now,
        term_ends_at=add_months(now, product.term_months),
        booked_by=actor,
    )
    _create(
        subscription,
        duplicate_message=_("This service is already ordered for this project. Change its quantity instead."),
    )
    acting = organization if organization.memberships.filter(user=actor).exists() else payer
    _audit(subscription, "service_ordered", actor=actor, acting_organization=acting)
    return subscription


# --- hooks from other apps ---------------------------------------------------------------------


def _end_of_day(day) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


@on("offer.accepted")
def subscriptions_from_offer(*, offer_id, partner, customer, items, actor=None, **_ignored) -> list[Subscription]:
    """Hook "offer.accepted" (OFR-6): provision each item's licences as a subscription.

    Idempotent per offer item (unique `offer_item_id`): running twice provisions nothing new.
    Billed per BIL-4: the reseller pays at partner conditions; the partner's selling price to its
    customer is kept for information only (customers never see partner conditions, OFR-3).
    Absolute items run until the item's common end date; relative items run their term from
    acceptance (licence assignment is not modelled yet).
    """
    known = set(
        Subscription.objects.filter(offer_item_id__in=[item["item_id"] for item in items]).values_list(
            "offer_item_id", flat=True
        )
    )
    payer = payer_for(customer)
    products = Product.objects.in_bulk([item["product_id"] for item in items])
    now = timezone.now()
    created = []
    for item in items:
        if item["item_id"] in known:
            continue
        product = products[item["product_id"]]
        term_months = int(item.get("term_months") or product.term_months)
        mode = item.get("license_mode") or Subscription.LicenseMode.ABSOLUTE
        if mode == Subscription.LicenseMode.ABSOLUTE and item.get("ends_on"):
            term_ends_at = _end_of_day(item["ends_on"])
        else:
            term_ends_at = add_months(now, term_months)
        if term_ends_at <= now:
            term_ends_at = add_months(now, term_months)
        resale = item.get("unit_price")
        subscription = Subscription(
            organization=customer,
            payer=payer,
            product=product,
            source=Source.OFFER,
            status=Status.ACTIVE,
            quantity=_clean_quantity(item["quantity"]),
            unit_price=unit_price_for(product=product, payer=payer),
            resale_unit_price=Decimal(str(resale)) if resale is not None else None,
            term_months=term_months,
            license_mode=mode,
            renews=False,
            starts_at=now,
            term_ends_at=term_ends_at,
            ends_at=term_ends_at,
            offer_id=offer_id,
            offer_item_id=item["item_id"],
            booked_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        try:
            with transaction.atomic():
                subscription.save()
        except IntegrityError:  # provisioned concurrently
            continue
        _term_open(subscription)
        _audit(subscription, "provisioned_from_offer", actor=actor, acting_organization=customer)
        created.append(subscription)
    return created


def _switch_payer(subscription: Subscription, *, payer: Organization, effective_at: datetime, actor, partner) -> None:
    """BIL-8: from `effective_at` (the next period) on, `payer` pays at its own price; the event
    goes into both trails, the subscriber's and the partner's."""
    before = _state(subscription)
    unit_price = unit_price_for(product=subscription.product, payer=payer)
    _term_change(subscription, effective_at=effective_at, payer_id=payer.pk, unit_price=unit_price)
    after = {**before, "payer": payer.public_id, "unit_price": str(unit_price)}
    for trail in (subscription.organization, partner):
        _audit(
            subscription,
            "payer_switch_scheduled",
            actor=actor,
            acting_organization=partner,
            before=before,
            after=after,
            organization=trail,
        )


def _switchable(organization_id: int, payer_id: int, effective_at: datetime):
    """Paid subscriptions of the org, paid by `payer_id`, still in force at `effective_at`."""
    return (
        Subscription.objects.select_for_update(of=("self",))
        .filter(organization_id=organization_id, payer_id=payer_id, status__in=[Status.ACTIVE, Status.CANCELLED])
        .exclude(source=Source.TRIAL)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=effective_at))
        .select_related("product", "payer", "organization")
        .order_by("id")
    )


@on("customer_relation.activated")
def subscriptions_follow_new_reseller(*, relation: CustomerRelation, actor=None, **_ignored) -> int:
    """Hook "customer_relation.activated" (BIL-8): a customer that connects to a reseller keeps
    its subscriptions; from the next period on the reseller pays them, at its partner conditions
    (BIL-4). The current month stays the customer's. Idempotent: a second call changes nothing."""
    effective_at = next_period_start()
    rows = list(_switchable(relation.customer_id, relation.customer_id, effective_at))
    for subscription in rows:
        scheduled = SubscriptionTerm.objects.filter(
            subscription=subscription, valid_from=effective_at, payer_id=relation.partner_id
        ).exists()
        if not scheduled:
            _switch_payer(
                subscription, payer=relation.partner, effective_at=effective_at, actor=actor, partner=relation.partner
            )
    return len(rows)


@on("customer_relation.ended")
def subscriptions_end_for_relation(*, relation: CustomerRelation, actor=None, **_ignored) -> None:
    """Hook "customer_relation.ended" (ORG-3, BIL-8): the partner's bookings end at once.

    - booked by the partner (partner orders, their add-ons, accepted offers): cancelled now;
    - services the customer ordered for its projects and billed to the partner: they continue;
      the partner pays them to the end of this month, the customer itself from the next period
      on, at list price (BIL-4) – a scheduled payer switch, audited in both trails;
    - the trial is free and stays as it is.
    """
    now = timezone.now()
    effective_at = next_period_start(now)
    reason = _("The reseller relation ended.")
    rows = list(
        Subscription.objects.select_for_update(of=("self",))
        .filter(
            organization_id=relation.customer_id,
            payer_id=relation.partner_id,
            status__in=[Status.TRIAL, Status.ACTIVE, Status.CANCELLED],
        )
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("product", "payer", "organization", "project")
        .order_by("id")
    )
    for subscription in rows:
        if subscription.source == Source.SERVICE_ORDER and subscription.status == Status.ACTIVE:
            customer = subscription.organization
            scheduled = SubscriptionTerm.objects.filter(
                subscription=subscription, valid_from=effective_at, payer_id=customer.pk
            ).exists()
            if not scheduled:
                _switch_payer(
                    subscription, payer=customer, effective_at=effective_at, actor=actor, partner=relation.partner
                )
            continue
        before = _state(subscription)
        if subscription.status == Status.ACTIVE:
            transition(subscription, Status.CANCELLED, cancelled_at=now, renews=False, ends_at=now, end_reason=reason)
        else:  # a trial, or cancelled and running until its term end: it just ends now
            Subscription.objects.filter(pk=subscription.pk).update(ends_at=now, renews=False, end_reason=reason)
            subscription.refresh_from_db()
        _term_end(subscription, ends_at=now)
        _audit(subscription, "ended_with_relation", actor=actor, acting_organization=relation.partner, before=before)
    # Connected and ended before the switch took effect: the customer keeps paying.
    pending = (
        SubscriptionTerm.objects.filter(
            subscription__organization_id=relation.customer_id, payer_id=relation.partner_id, valid_from__gt=now
        )
        .values("subscription_id")
        .annotate(first=Min("valid_from"))
    )
    firsts = {row["subscription_id"]: row["first"] for row in pending}
    for subscription in (
        Subscription.objects.select_for_update(of=("self",))
        .filter(pk__in=list(firsts))
        .select_related("product", "payer", "organization")
        .order_by("id")
    ):
        _switch_payer(
            subscription,
            payer=subscription.organization,
            effective_at=firsts[subscription.pk],
            actor=actor,
            partner=relation.partner,
        )


@on("organization.archived")
def subscriptions_end_for_archived_org(*, organization: Organization, actor=None, **_ignored) -> int:
    """Hook "organization.archived" (ORG-7): an archived org uses nothing any more, so everything
    still in force ends now and is invoiced up to today; the rows stay (retention). Restoring
    the org (support) does not revive them: book again. Idempotent."""
    now = timezone.now()
    reason = _("The organization was archived.")
    rows = list(
        Subscription.objects.select_for_update(of=("self",))
        .filter(organization=organization, status__in=[Status.TRIAL, Status.ACTIVE, Status.CANCELLED])
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("product", "payer", "organization")
        .order_by("id")
    )
    for subscription in rows:
        before = _state(subscription)
        if subscription.status == Status.ACTIVE:
            transition(subscription, Status.CANCELLED, cancelled_at=now, renews=False, ends_at=now, end_reason=reason)
        else:
            Subscription.objects.filter(pk=subscription.pk).update(ends_at=now, renews=False, end_reason=reason)
            subscription.refresh_from_db()
        _term_end(subscription, ends_at=now)
        _audit(subscription, "ended_with_archive", actor=actor, before=before)
    return len(rows)


# --- periodic job ------------------------------------------------------------------------------


def subscriptions_process_due(*, at=None, batch: int = 500) -> dict:
    """Record expiries (trials and fixed terms past their end) and start the next term of
    renewing subscriptions. Idempotent: each row moves with a conditional UPDATE, so a second run
    (or two workers at once) changes nothing more. Reads never wait for it (`in_force`)."""
    at = at or timezone.now()
    expired = renewed = 0
    applied = subscriptions_apply_terms(at=at, batch=batch)
    for pk in list(Subscription.objects.due_to_expire(at).values_list("pk", flat=True)[:batch]):
        with transaction.atomic():
            subscription = Subscription.objects.select_related("product", "payer", "organization").get(pk=pk)
            before = _state(subscription)
            try:
                transition(subscription, Status.EXPIRED, sources=set(Subscription.OPEN_STATUSES))
            except Conflict:
                continue
            _audit(subscription, "expired", actor=None, before=before)
            expired += 1
    for pk in list(Subscription.objects.due_to_renew(at).values_list("pk", flat=True)[:batch]):
        with transaction.atomic():
            subscription = (
                Subscription.objects.select_for_update().select_related("product", "payer", "organization").get(pk=pk)
            )
            if not (subscription.status == Status.ACTIVE and subscription.renews and subscription.ends_at is None):
                continue
            before = _state(subscription)
            term_end = subscription.term_ends_at
            while term_end <= at:
                term_end = add_months(term_end, subscription.term_months)
            subscription.term_ends_at = term_end
            subscription.save(update_fields=["term_ends_at", "updated_at"])
            _audit(subscription, "renewed", actor=None, before=before)
            renewed += 1
    return {"expired": expired, "renewed": renewed, "applied": applied}


def subscriptions_apply_terms(*, at=None, batch: int = 500) -> int:
    """BIL-8: a scheduled state (a reduction at the term end, a payer switch on the 1st) becomes
    the subscription's current quantity, price and payer once it is in force. The history is
    what the monthly run bills; this keeps the pages and the API, which show the row, in step.
    Idempotent (a row already in step is not selected again)."""
    at = at or timezone.now()
    current = SubscriptionTerm.objects.filter(subscription=OuterRef("pk"), valid_from__lte=at).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=at)
    )
    differs = current.exclude(
        quantity=OuterRef("quantity"), unit_price=OuterRef("unit_price"), payer_id=OuterRef("payer_id")
    )
    pks = list(
        Subscription.objects.filter(status__in=Subscription.OPEN_STATUSES)
        .filter(Exists(differs))
        .values_list("pk", flat=True)[:batch]
    )
    applied = 0
    for pk in pks:
        with transaction.atomic():
            subscription = (
                Subscription.objects.select_for_update(of=("self",))
                .select_related("product", "payer", "organization")
                .get(pk=pk)
            )
            term = (
                SubscriptionTerm.objects.filter(subscription=subscription, valid_from__lte=at)
                .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
                .select_related("payer")
                .first()
            )
            if term is None or (term.quantity, term.unit_price, term.payer_id) == (
                subscription.quantity,
                subscription.unit_price,
                subscription.payer_id,
            ):
                continue
            before = _state(subscription)
            subscription.quantity, subscription.unit_price, subscription.payer = (
                term.quantity,
                term.unit_price,
                term.payer,
            )
            subscription.save(update_fields=["quantity", "unit_price", "payer", "updated_at"])
            _audit(subscription, "scheduled_change_applied", actor=None, before=before)
            applied += 1
    return applied


# --- the stored subscription flags of the customer table (issue 13/16) ---------------------------


def subscription_flags(at: datetime) -> dict:
    """The values of an organization's subscription flags at `at`, as expressions on its row
    (`Organization.has_subscription_in_force`, `has_trial_in_force`,
    `subscription_flags_valid_until`): whether a paid subscription and a trial are in force
    (`Subscription.in_force_q`, the one definition), and until when that holds without a write –
    the next start or end of one of its subscriptions after `at` (none: until they change)."""
    subscriptions = Subscription.objects.filter(organization=OuterRef("pk"))
    in_force = subscriptions.in_force(at)
    next_change = (
        subscriptions.filter(status__in=Subscription.IN_FORCE_STATUSES)
        .filter(Q(starts_at__gt=at) | Q(ends_at__gt=at))
        .annotate(
            change_at=Case(
                When(starts_at__gt=at, then=F("starts_at")), default=F("ends_at"), output_field=DateTimeField()
            )
        )
        .order_by("change_at")
        .values("change_at")[:1]
    )
    return {
        "has_subscription_in_force": Exists(in_force.paid()),
        "has_trial_in_force": Exists(in_force.trials()),
        "subscription_flags_valid_until": Subquery(next_change, output_field=DateTimeField()),
    }


def subscription_flags_refresh(*, at=None, batch: int = 1000) -> int:
    """Beat, every minute: compute the subscription flags of up to `batch` organizations whose
    subscriptions changed (`SubscriptionChange`) or whose flags' time has passed, and delete the
    changes it has taken into account. Returns how many organizations it computed.

    Safe next to writers: the organization rows are locked first (skipping any a transaction
    holds: they come next time), then computed by a statement that sees every change committed
    before it; a change committed later keeps its record, so its organization stays "changed".
    The filters never depend on this job having run (`SubscriptionChange`)."""
    at = at or timezone.now()
    with transaction.atomic():
        changes = list(SubscriptionChange.objects.order_by("id").values_list("id", "organization_id")[:batch])
        due = Organization.objects.filter(subscription_flags_valid_until__lte=at).values_list("pk", flat=True)
        wanted = {organization_id for _change, organization_id in changes} | set(due[:batch])
        if not wanted:
            return 0
        locked = set(
            Organization.objects.select_for_update(skip_locked=True)
            .filter(pk__in=wanted)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Organization.objects.filter(pk__in=locked).update(**subscription_flags(at))
        SubscriptionChange.objects.filter(
            pk__in=[change for change, organization_id in changes if organization_id in locked]
        ).delete()
    return len(locked)


def subscription_flags_refresh_all(*, at=None) -> int:
    """`subscription_flags_refresh` until nothing is left (seeds, demo data); bounded, so rows a
    concurrent transaction holds cannot keep it looping."""
    total = 0
    for _round in range(1000):
        done = subscription_flags_refresh(at=at)
        total += done
        if not done:
            break
    return total


def subscription_flags_reconcile(*, at=None, batch: int = 1000) -> int:
    """Beat, daily: compute the flags of every organization again, in batches, and change the
    rows that differ. A safety net for writes that bypass the ORM (SQL in a shell): the flags
    are otherwise kept by `SubscriptionChange`. Records of changes stay for the minute job."""
    at = at or timezone.now()
    changed = 0
    last = 0
    while True:
        with transaction.atomic():
            ids = list(
                Organization.objects.select_for_update(skip_locked=True)
                .filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return changed
            last = ids[-1]
            flags = subscription_flags(at)
            stored = Organization.objects.filter(pk__in=ids).annotate(
                **{f"computed_{name}": value for name, value in flags.items()}
            )
            differing = [
                row["pk"]
                for row in stored.values("pk", *flags, *(f"computed_{name}" for name in flags))
                if any(row[name] != row[f"computed_{name}"] for name in flags)
            ]
            if differing:
                changed += Organization.objects.filter(pk__in=differing).update(**flags)
