"""Models of the billing app.

Subscriptions (BIL-1 … BIL-4, PRJ-5); invoices and payment methods (BIL-5, BIL-6) are the
`invoices` app's.

A subscription is one product booked for one organization (the *subscriber*) in a quantity, at a
net unit price per licence and month, paid by its *payer* (BIL-4: the reseller partner for a
partner-linked customer, the org itself otherwise – fixed when the subscription is created, never
editable by the customer). Add-ons are subscriptions with a `parent`.

Status (`TRANSITIONS`): trial → expired; active → cancelled | expired.
Whether a subscription is *in force* is decided when read (`SubscriptionQuerySet.in_force`): a
trial past its end never counts, even before the periodic job has recorded the expiry (BIL-2); a
cancelled subscription runs until the end of its term, then stops.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.validators import MinValueValidator
from django.db import connections, models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.expiry import ExpiringStatus, ExpiringStatusQuerySet

# The columns of a subscription whose change can change its organization's subscription flags
# (`Organization.has_subscription_in_force`, `has_trial_in_force`; `SubscriptionChange`).
FLAG_FIELDS = frozenset({"organization", "organization_id", "source", "status", "starts_at", "ends_at"})


def subscriptions_changed(organization_ids, *, using: str = "default") -> None:
    """Record that these organizations' subscriptions changed: their stored flags are stale until
    `billing.services.subscription_flags_refresh` has computed them again. An INSERT only, never
    an UPDATE of the organization row, so a subscription write takes no further lock."""
    rows = [SubscriptionChange(organization_id=pk) for pk in set(organization_ids) if pk is not None]
    if rows:
        SubscriptionChange.objects.using(using).bulk_create(rows)


class SubscriptionQuerySet(ExpiringStatusQuerySet):
    def update(self, **kwargs):
        """An UPDATE that can change the flags (`FLAG_FIELDS`) records a `SubscriptionChange` for
        the organizations of the rows it matches, in one INSERT … SELECT before it (afterwards
        the filter may match them no more: a status transition)."""
        if FLAG_FIELDS.isdisjoint(kwargs):
            return super().update(**kwargs)
        connection = connections[self.db]
        try:
            sql, params = self.order_by().values("organization_id").query.sql_with_params()
        except EmptyResultSet:  # e.g. `status__in` of no status: the UPDATE matches nothing either
            return super().update(**kwargs)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {SubscriptionChange._meta.db_table} (organization_id, created_at) "
                f"SELECT DISTINCT changed.organization_id, %s FROM ({sql}) changed",
                [connection.ops.adapt_datetimefield_value(timezone.now()), *params],
            )
        return super().update(**kwargs)

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        subscriptions_changed((subscription.organization_id for subscription in created), using=self.db)
        return created

    bulk_create.alters_data = True

    def trials(self):
        """The free trials (BIL-2)."""
        return self.filter(source=Subscription.Source.TRIAL)

    def paid(self):
        """Everything but the free trials: bookings, accepted offers, ordered services."""
        return self.exclude(source=Subscription.Source.TRIAL)

    def in_force(self, at=None):
        """Subscriptions that count at `at` (default now): started, not yet ended, not expired."""
        at = at or timezone.now()
        return self.filter(Subscription.in_force_q(at))

    def due_to_renew(self, at=None):
        """Renewing subscriptions whose current term has ended (the job starts the next term)."""
        at = at or timezone.now()
        return self.filter(status=Subscription.Status.ACTIVE, renews=True, ends_at__isnull=True, term_ends_at__lte=at)


class Subscription(ExpiringStatus):
    """One product booked for one organization (BIL-1)."""

    class Status(models.TextChoices):
        # A context of their own: the generic words are translated differently elsewhere.
        TRIAL = "trial", pgettext_lazy("subscription status", "Trial")
        ACTIVE = "active", pgettext_lazy("subscription status", "Active")
        CANCELLED = "cancelled", pgettext_lazy("subscription status", "Cancelled")
        EXPIRED = "expired", pgettext_lazy("subscription status", "Expired")

    class Source(models.TextChoices):
        TRIAL = "trial", pgettext_lazy("subscription source", "Trial")
        PARTNER_ORDER = "partner_order", _("Booked by the partner")
        OFFER = "offer", _("Accepted offer")
        SERVICE_ORDER = "service_order", _("Service ordered for a project")
        DIRECT_ORDER = "direct_order", _("Booked by the organization")

    class LicenseMode(models.TextChoices):
        ABSOLUTE = "absolute", _("Absolute: one common end date")
        RELATIVE = "relative", _("Relative: the term starts at first assignment")

    # A cancelled subscription stays "cancelled" after its end (it simply stops being in force);
    # "expired" is what a trial or a fixed term becomes when its end passes.
    TRANSITIONS = {
        Status.TRIAL: {Status.EXPIRED},
        Status.ACTIVE: {Status.CANCELLED, Status.EXPIRED},
    }
    OPEN_STATUSES = (Status.TRIAL, Status.ACTIVE)
    # The statuses a subscription counts in between its start and end (`in_force_q`).
    IN_FORCE_STATUSES = (Status.TRIAL, Status.ACTIVE, Status.CANCELLED)
    EXPIRES_WHEN = (((Status.TRIAL, Status.ACTIVE), "ends_at"),)

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="subscriptions",
        verbose_name=_("organization"),
        help_text=_("The subscriber: the organization using the product."),
    )
    payer = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="paid_subscriptions",
        verbose_name=_("invoice recipient"),
        help_text=_("Who pays (BIL-4): the reseller partner of a linked customer, otherwise the organization itself."),
    )
    product = models.ForeignKey(
        "offers.Product", on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("product")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="add_ons",
        verbose_name=_("add-on to"),
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subscriptions",
        verbose_name=_("project"),
        help_text=_("Services ordered for a project (PRJ-5)."),
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(
        _("unit price (EUR)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Net price per licence and month charged to the invoice recipient."),
    )
    # What the partner charges its customer (offers, OFR-3); information only, never invoiced here.
    resale_unit_price = models.DecimalField(
        _("partner's selling price (EUR)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    term_months = models.PositiveSmallIntegerField(_("term in months"), validators=[MinValueValidator(1)])
    license_mode = models.CharField(
        _("license mode"), max_length=16, choices=LicenseMode.choices, default=LicenseMode.ABSOLUTE
    )
    renews = models.BooleanField(_("renews automatically"), default=True)
    starts_at = models.DateTimeField(_("start"))
    term_ends_at = models.DateTimeField(_("end of the current term"))
    # When the subscription stops being in force; empty while it renews. A cancellation sets it
    # to the end of the term; the end of a reseller relation sets it to that moment (ORG-3).
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    end_reason = models.CharField(_("reason for the end"), max_length=200, blank=True)
    # Acceptance of an offer provisions each item once (OFR-7), also when the hook runs twice.
    offer_item_id = models.BigIntegerField(_("offer item"), null=True, blank=True, unique=True, editable=False)
    offer_id = models.BigIntegerField(_("offer"), null=True, blank=True, editable=False)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-created_at", "-id"]
        constraints = [
            # BIL-2: one trial per organization, also when the hook runs twice.
            models.UniqueConstraint(
                fields=["organization"], condition=Q(source="trial"), name="one_trial_per_organization"
            ),
            # A second booking of the same product changes the quantity instead (also under races).
            models.UniqueConstraint(
                fields=["organization", "product"],
                condition=Q(status="active", parent__isnull=True, source__in=["partner_order", "direct_order"]),
                name="one_open_booking_per_product",
            ),
            models.UniqueConstraint(
                fields=["parent", "product"],
                condition=Q(status="active", parent__isnull=False),
                name="one_open_add_on_per_product",
            ),
            models.UniqueConstraint(
                fields=["project", "product"],
                condition=Q(status="active", source="service_order"),
                name="one_open_service_per_project_product",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="subscription_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="subscription_unit_price_not_negative"),
            models.CheckConstraint(condition=Q(term_ends_at__gt=F("starts_at")), name="subscription_term_after_start"),
            models.CheckConstraint(
                condition=Q(source="service_order") | Q(project__isnull=True), name="only_services_have_a_project"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["payer", "status"]),
            models.Index(fields=["status", "ends_at"]),
            models.Index(fields=["status", "term_ends_at"]),
            # the API's default order across orgs: a page walks it (issue 13)
            models.Index(fields=["-created_at", "-id"], name="subscription_newest_first"),
            # "Does this org have a paid subscription in force?" (the customer table's columns and
            # its "has none" filter, issue 13): one index-only probe per customer, the time test
            # on the included columns. A partner's 10,000 customers cost 10,000 such probes, not a
            # read of every subscription of the platform. (A trial: `one_trial_per_organization`.)
            models.Index(
                fields=["organization"],
                include=["starts_at", "ends_at"],
                condition=~Q(source="trial") & Q(status__in=["trial", "active", "cancelled"]),
                name="subscription_paid_in_force",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} × {self.quantity} – {self.organization}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or not FLAG_FIELDS.isdisjoint(update_fields):
            subscriptions_changed([self.organization_id], using=self._state.db)

    save.alters_data = True

    def delete(self, *args, **kwargs):
        subscriptions_changed([self.organization_id], using=self._state.db)
        return super().delete(*args, **kwargs)

    delete.alters_data = True

    @staticmethod
    def in_force_q(at, prefix: str = "") -> Q:
        """Q: the subscription counts at `at` – the one definition for lists, counts and billing."""
        return (
            Q(**{f"{prefix}status__in": list(Subscription.IN_FORCE_STATUSES)})
            & Q(**{f"{prefix}starts_at__lte": at})
            & (Q(**{f"{prefix}ends_at__isnull": True}) | Q(**{f"{prefix}ends_at__gt": at}))
        )

    def is_in_force(self, at=None) -> bool:
        return Subscription.values_in_force(status=self.status, starts_at=self.starts_at, ends_at=self.ends_at, at=at)

    @staticmethod
    def values_in_force(*, status: str, starts_at, ends_at, at=None) -> bool:
        """`is_in_force` of a subscription's columns (a plain row of the API's list)."""
        at = at or timezone.now()
        return status in Subscription.IN_FORCE_STATUSES and starts_at <= at and (ends_at is None or ends_at > at)

    @property
    def is_add_on(self) -> bool:
        return self.parent_id is not None

    @property
    def monthly_amount(self) -> Decimal:
        from .money import line_amount

        return line_amount(quantity=self.quantity, unit_price=self.unit_price)


class SubscriptionChange(models.Model):
    """An organization whose subscriptions changed after its subscription flags were computed
    (`Organization.has_subscription_in_force`, `has_trial_in_force`, issue 13/16).

    Written by every write of a subscription (`Subscription.save`/`delete`, the queryset's
    `update` and `bulk_create`), in the writer's transaction; deleted by
    `billing.services.subscription_flags_refresh` once it has computed the flags again. While an
    organization has one, the customer table tests its subscriptions themselves instead of
    trusting the flags, so a filter is exact the moment the write commits."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("subscription change")
        verbose_name_plural = _("subscription changes")

    def __str__(self) -> str:
        return f"{self.organization_id} @ {self.created_at:%Y-%m-%d %H:%M:%S}"


class SubscriptionTerm(models.Model):
    """One state of a subscription in time (BIL-8): from `valid_from` until `valid_until`
    (exclusive; empty = open, bounded only by the subscription's `ends_at`) the subscription had
    `quantity` licences at the net monthly `unit_price`, paid by `payer`.

    Written by the services on every change (creation, quantity, price, payer, end); a change
    that takes effect later (a reduction at the term end, a payer switch from the next month) is
    a row whose `valid_from` lies in the future. The monthly run bills one line per term pro rata
    by days; the rows of a subscription never overlap.
    """

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="terms", verbose_name=_("subscription")
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(_("unit price (EUR)"), max_digits=12, decimal_places=2)
    payer = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("invoice recipient"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("subscription term")
        verbose_name_plural = _("subscription terms")
        ordering = ["subscription_id", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "valid_from"], name="one_term_per_subscription_start"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="subscription_term_until_after_from",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="subscription_term_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="subscription_term_price_not_negative"),
        ]
        indexes = [models.Index(fields=["payer", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.subscription_id}: {self.quantity} × {self.unit_price} from {self.valid_from}"


class ProductBilling(models.Model):
    """How billing counts and combines one catalog product (BIL-1): the unit its quantity is in
    and the main products it is an add-on to.

    The catalog (offers.Product, OFR-1) knows what a product is and costs; whether it is counted
    as licences, as GB of storage or as services, and to which products it may be added, is the
    subscriptions' concern. A product without a row is a main product counted in licences
    (modules, courses) or services (services).
    """

    class Unit(models.TextChoices):
        LICENCE = "licence", _("Licences")
        GB_STORAGE = "gb_storage", _("GB of storage")
        SERVICE = "service", _("Services")

    product = models.OneToOneField(
        "offers.Product", on_delete=models.CASCADE, related_name="billing", verbose_name=_("product")
    )
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices, default=Unit.LICENCE)
    unit_size = models.PositiveIntegerField(
        _("units per quantity"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("How much of the unit one booked quantity holds, e.g. 10 for a 10 GB storage pack."),
    )
    add_on_to = models.ManyToManyField(
        "offers.Product",
        blank=True,
        related_name="add_on_products",
        verbose_name=_("add-on to"),
        help_text=_("The main products this product can be booked to as an add-on. Empty: a main product."),
    )

    class Meta:
        verbose_name = _("billing settings of a product")
        verbose_name_plural = _("billing settings of products")
        constraints = [
            models.CheckConstraint(condition=Q(unit_size__gte=1), name="product_billing_unit_size_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.unit} × {self.unit_size}"
