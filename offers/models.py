"""The product catalog (OFR-1) and partner conditions. Offer models follow in this module."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
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
        _("list price (EUR)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Net price per license and month."),
    )
    is_active = models.BooleanField(_("available"), default=True)
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
        _("discount (%)"), max_digits=5, decimal_places=2,
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
        "organizations.Organization", on_delete=models.CASCADE, related_name="partner_condition",
        limit_choices_to={"kind": "partner"}, verbose_name=_("partner"),
    )
    tier = models.ForeignKey(PartnerTier, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("tier"))
    discount_override_percent = models.DecimalField(
        _("individual discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
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
