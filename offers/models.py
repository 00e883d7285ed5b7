"""The product catalog (OFR-1), partner conditions, offer templates (OFR-2) and offers (OFR-3 … OFR-7)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")


class Product(models.Model):
    """A sellable item maintained by support in the admin (OFR-1). Also used by billing (BIL-1, PRJ-5)."""

    class Kind(models.TextChoices):
        MODULE = "module", _("Module")
        COURSE = "course", _("Course")
        SERVICE = "service", _("Service")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_de = models.CharField(_("name (German)"), max_length=200)
    term_months = models.PositiveSmallIntegerField(
        _("license term in months"), default=12, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    list_price = models.DecimalField(
        _("list price (EUR)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Net price per license and month."),
    )
    is_active = models.BooleanField(_("available"), default=True)
    # BIL-8: where the product says so, fewer licences take effect only at the end of the current
    # term (the customer committed to it); more licences always apply at once. Off by default:
    # the spec makes it a per-product choice (BIL-3 changes apply at once otherwise).
    reductions_at_term_end = models.BooleanField(
        _("reductions at the end of the term"),
        default=False,
        help_text=_("Fewer licences take effect at the end of the current term; more licences apply at once."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} – {self.name}"

    @property
    def name(self) -> str:
        return self.name_de if (get_language() or "en").startswith("de") else self.name_en


class PartnerTier(models.Model):
    """A partner level with its discount on list prices (OFR-1)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        verbose_name = _("partner tier")
        verbose_name_plural = _("partner tiers")
        ordering = ["discount_percent"]

    def __str__(self) -> str:
        return f"{self.name} ({self.discount_percent} %)"


class PartnerCondition(models.Model):
    """A partner's conditions: its tier, or a per-partner discount that overrides the tier."""

    partner = models.OneToOneField(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="partner_condition",
        limit_choices_to={"kind": "partner"},
        verbose_name=_("partner"),
    )
    tier = models.ForeignKey(PartnerTier, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("tier"))
    discount_override_percent = models.DecimalField(
        _("individual discount (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        verbose_name = _("partner condition")
        verbose_name_plural = _("partner conditions")

    def __str__(self) -> str:
        return f"{self.partner}: {self.discount_percent} %"

    @property
    def discount_percent(self) -> Decimal:
        if self.discount_override_percent is not None:
            return self.discount_override_percent
        return self.tier.discount_percent if self.tier else Decimal("0")


def partner_price(*, list_price: Decimal, discount_percent: Decimal) -> Decimal:
    """List price less the partner's discount, rounded half-up to cents (BIL-7)."""
    return (list_price * (Decimal("100") - discount_percent) / Decimal("100")).quantize(CENT, rounding=ROUND_HALF_UP)


# --- Offer templates (OFR-2) --------------------------------------------------------------------


class LicenseMode(models.TextChoices):
    ABSOLUTE = "absolute", _("Absolute: all licenses end on one common date")
    RELATIVE = "relative", _("Relative: each license starts when first assigned")


class OfferTemplate(models.Model):
    """A partner's named bundle of catalog products, sent to customers as offers (OFR-2)."""

    partner = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="offer_templates",
        limit_choices_to={"kind": "partner"},
        verbose_name=_("partner"),
    )
    name = models.CharField(_("name"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("offer template")
        verbose_name_plural = _("offer templates")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["partner", "name"], name="offer_template_name_unique")]

    def __str__(self) -> str:
        return self.name


class ItemTerms(models.Model):
    """What a template item and an offer item share: quantity, term, license mode, selling price."""

    quantity = models.PositiveIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100000)]
    )
    term_months = models.PositiveSmallIntegerField(
        _("term in months"), default=12, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    license_mode = models.CharField(
        _("license mode"), max_length=16, choices=LicenseMode.choices, default=LicenseMode.ABSOLUTE
    )
    unit_price = models.DecimalField(
        _("selling price (EUR)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Net price per license and month that the customer pays."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        abstract = True

    @property
    def total_price(self) -> Decimal:
        """Net price of the item over its whole term (BIL-7: rounded half-up to cents)."""
        return (self.unit_price * self.quantity * self.term_months).quantize(CENT, rounding=ROUND_HALF_UP)


class OfferTemplateItem(ItemTerms):
    template = models.ForeignKey(
        OfferTemplate, on_delete=models.CASCADE, related_name="items", verbose_name=_("template")
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))

    class Meta:
        verbose_name = _("template item")
        verbose_name_plural = _("template items")
        ordering = ["position", "id"]
        constraints = [
            # A product once per template (issue 16): more licences are a higher quantity.
            models.UniqueConstraint(fields=["template", "product"], name="offer_template_item_product_unique")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product.sku}"


# --- Offers (OFR-3 … OFR-7) ---------------------------------------------------------------------


class OfferQuerySet(models.QuerySet):
    def awaiting_confirmation(self):
        return self.filter(status=Offer.Status.WAITING_FOR_CONFIRMATION)


class Offer(models.Model):
    """An offer a partner sent to one of its customer orgs: a snapshot of a template (OFR-3).

    States (`TRANSITIONS`): waiting → waiting_for_confirmation | delivery_failed | cancelled;
    waiting_for_confirmation → accepted | declined | cancelled; delivery_failed → waiting | cancelled.
    Every change goes through `offers.services` and `portal.state_machine.transition`.
    """

    class Status(models.TextChoices):
        # One word set everywhere (issue 16): Send/Sending, Accept/Accepted, Decline/Declined,
        # Withdraw/Withdrawn. The stored values stay as they were (API, audit trail).
        WAITING = "waiting", pgettext_lazy("offer status", "Sending")
        WAITING_FOR_CONFIRMATION = "waiting_for_confirmation", pgettext_lazy("offer status", "Awaiting decision")
        DELIVERY_FAILED = "delivery_failed", pgettext_lazy("offer status", "Delivery failed")
        ACCEPTED = "accepted", pgettext_lazy("offer status", "Accepted")
        DECLINED = "declined", pgettext_lazy("offer status", "Declined")
        CANCELLED = "cancelled", pgettext_lazy("offer status", "Withdrawn")

    TRANSITIONS = {
        Status.WAITING: {Status.WAITING_FOR_CONFIRMATION, Status.DELIVERY_FAILED, Status.CANCELLED},
        Status.WAITING_FOR_CONFIRMATION: {Status.ACCEPTED, Status.DECLINED, Status.CANCELLED},
        Status.DELIVERY_FAILED: {Status.WAITING, Status.CANCELLED},
    }
    OPEN_STATUSES = (Status.WAITING, Status.WAITING_FOR_CONFIRMATION, Status.DELIVERY_FAILED)

    partner = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="sent_offers", verbose_name=_("partner")
    )
    customer = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="received_offers",
        verbose_name=_("customer"),
    )
    template = models.ForeignKey(
        OfferTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="offers",
        verbose_name=_("template"),
        help_text=_("Empty once the template was deleted; the offer keeps its snapshot."),
    )
    title = models.CharField(_("title"), max_length=200, help_text=_("The template's name when the offer was sent."))
    message = models.TextField(_("message"), blank=True, max_length=2000)
    status = models.CharField(_("status"), max_length=32, choices=Status.choices, default=Status.WAITING)
    decline_reason = models.TextField(_("reason for declining"), blank=True, max_length=2000)
    bulk_send = models.ForeignKey(
        "OfferBulkSend",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="offers",
        verbose_name=_("bulk send"),
    )
    delivery_attempt = models.PositiveIntegerField(_("delivery round"), default=1, editable=False)
    last_delivery_error = models.TextField(_("last delivery error"), blank=True)
    webhook_delivered_at = models.DateTimeField(_("webhook delivered at"), null=True, blank=True)
    # Recorded (committed) before each POST, so a repeat after a worker died mid-post is recognised:
    # it waits out the request timeout and carries the same X-Portal-Delivery id.
    webhook_attempted_at = models.DateTimeField(_("webhook last posted at"), null=True, blank=True, editable=False)
    webhook_delivery_id = models.CharField(_("webhook delivery id"), max_length=64, blank=True, editable=False)

    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    licenses_provisioned_at = models.DateTimeField(
        _("licenses provisioned at"),
        null=True,
        blank=True,
        help_text=_("Set once on acceptance; the accepted items are the license record billing takes over."),
    )

    objects = OfferQuerySet.as_manager()

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["-created_at", "-id"]
        indexes = [
            # the lists' order (-created_at, -id) in full, so a page is read off the index (issue 13)
            models.Index(fields=["partner", "-created_at", "-id"]),
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["customer", "-created_at", "-id"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(partner=models.F("customer")), name="offer_not_to_self"),
            models.UniqueConstraint(
                fields=["bulk_send", "customer"],
                condition=models.Q(bulk_send__isnull=False),
                name="one_offer_per_customer_and_bulk_send",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.customer.name}" if self.customer_id else self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class OfferItem(ItemTerms):
    """A snapshot of one template item at sending time; after acceptance the license record."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="items", verbose_name=_("offer"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    kind = models.CharField(_("kind"), max_length=16, choices=Product.Kind.choices)
    sku = models.CharField(_("SKU"), max_length=64)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_de = models.CharField(_("name (German)"), max_length=200)
    list_price = models.DecimalField(_("list price (EUR)"), max_digits=12, decimal_places=2)
    # Partner conditions: shown to the partner only, never to the customer (OFR-3).
    purchase_price = models.DecimalField(_("partner price (EUR)"), max_digits=12, decimal_places=2)
    ends_on = models.DateField(
        _("licenses end on"),
        null=True,
        blank=True,
        help_text=_("Absolute mode: set on acceptance (acceptance date plus the term)."),
    )

    class Meta:
        verbose_name = _("offer item")
        verbose_name_plural = _("offer items")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"

    @property
    def name(self) -> str:
        return self.name_de if (get_language() or "en").startswith("de") else self.name_en

    @property
    def purchase_total(self) -> Decimal:
        return (self.purchase_price * self.quantity * self.term_months).quantize(CENT, rounding=ROUND_HALF_UP)


class OfferBulkSend(models.Model):
    """One template sent to many customer orgs by a background job, with its progress."""

    class Status(models.TextChoices):
        RUNNING = "running", pgettext_lazy("bulk send status", "Running")
        DONE = "done", pgettext_lazy("bulk send status", "Done")

    partner = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="offer_bulk_sends",
        verbose_name=_("partner"),
    )
    template = models.ForeignKey(
        OfferTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("template")
    )
    title = models.CharField(_("title"), max_length=200)
    message = models.TextField(_("message"), blank=True, max_length=2000)
    customer_ids = models.JSONField(_("customer organizations"), default=list)
    total = models.PositiveIntegerField(_("customers"), default=0)
    sent_count = models.PositiveIntegerField(_("offers sent"), default=0)
    skipped_count = models.PositiveIntegerField(_("customers skipped"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk send")
        verbose_name_plural = _("bulk sends")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.sent_count}/{self.total})"

    @property
    def progress_percent(self) -> int:
        if not self.total:
            return 100
        return min(100, int((self.sent_count + self.skipped_count) * 100 / self.total))


# --- Customer webhook settings (OFR-4) ----------------------------------------------------------


class WebhookEndpoint(models.Model):
    """Where a customer org wants offers posted, signed with its own secret (OFR-4)."""

    organization = models.OneToOneField(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="offer_webhook",
        verbose_name=_("organization"),
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url
