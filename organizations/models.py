"""Accounts, organizations, memberships, customer relations, staff assignments, audit trail."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, Group, PermissionsMixin
from django.contrib.postgres.indexes import OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from portal.expiry import ExpiringStatus
from portal.files import PUBLIC_MEDIA_FOLDER, private_storage, random_name
from portal.indexes import TrigramGinIndex

from .roles import OrgKind, OrgRole

# Crockford-style alphabet without 0/O/1/I/L: readable over the phone, never a sequence.
PUBLIC_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def generate_public_id() -> str:
    """`ORG-XXXX-XXXX`: 40 random bits, shown to users and used to connect orgs (ORG-1)."""
    chars = "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(8))
    return f"ORG-{chars[:4]}-{chars[4:]}"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def normalize_email(self, email):  # emails are case-insensitive (ORG-5)
        return (email or "").strip().lower()

    def get_by_natural_key(self, username):
        return self.get(email__iexact=self.normalize_email(username))

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. The email is the login and is unique regardless of case."""

    email = models.EmailField(_("email address"), max_length=254)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("support staff"), default=False)
    must_change_password = models.BooleanField(
        _("must change password"), default=False, help_text=_("Set when a partner chose the initial password.")
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]
        # the customer table's search by contact email (`email__icontains`, issue 13)
        indexes = [TrigramGinIndex(OpClass(Upper("email"), name="gin_trgm_ops"), name="user_email_trgm")]

    def __str__(self) -> str:
        return User.label_of(self.first_name, self.last_name, self.email)

    @staticmethod
    def label_of(first_name: str, last_name: str, email: str) -> str:
        """A user as people are named in the portal: the full name, else the email address (also
        for plain values read without an instance, such as a filter's options)."""
        return f"{first_name} {last_name}".strip() or email

    def clean(self):
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)

    def save(self, *args, **kwargs):
        self.email = type(self).objects.normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email


class OrganizationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Organization.Status.ACTIVE)


def logo_upload_to(organization, filename: str) -> str:
    """`logos/<uuid4 hex>.<ext>`: logos are public, so their names must carry nothing guessable."""
    return random_name(PUBLIC_MEDIA_FOLDER, filename)


# The org profile as the portal edits it (ORG-8): the page, the API, the services and the audit
# trail all read these lists, so a new profile field is added here once.
PROFILE_FIELDS = [
    "name",
    "street",
    "postcode",
    "city",
    "country",
    "vat_id",
    "billing_name",
    "billing_street",
    "billing_postcode",
    "billing_city",
    "billing_country",
    "billing_email",
    "billing_address_is_invoice_recipient",
    "billing_buyer_reference",
]
BILLING_FIELDS = [name for name in PROFILE_FIELDS if name.startswith("billing_")]
SUPPORT_CONTACT_FIELDS = ["support_name", "support_email", "support_phone", "support_hours", "support_url"]


class Organization(models.Model):
    """A partner or customer organization (ORG-1)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    Kind = OrgKind
    # Archiving a linked customer org (ORG-7); support restores it in the admin.
    TRANSITIONS = {Status.ACTIVE: {Status.ARCHIVED}, Status.ARCHIVED: {Status.ACTIVE}}

    kind = models.CharField(_("kind"), max_length=16, choices=OrgKind.choices, default=OrgKind.CUSTOMER)
    name = models.CharField(_("name"), max_length=200)
    # The name as the search compares it (`_organization_search_q`), kept by the database: a
    # search without a trigram index reads it from the row instead of computing UPPER(name) for
    # every customer (issue 13: 3.0 → 0.9 ms over 10,000 customers).
    search_name = models.GeneratedField(
        expression=Upper("name"), output_field=models.CharField(max_length=200), db_persist=True, editable=False
    )
    public_id = models.CharField(
        _("identifier"), max_length=16, unique=True, default=generate_public_id, editable=False
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = CountryField(_("country"), blank=True)
    vat_id = models.CharField(_("VAT ID"), max_length=20, blank=True)

    # "Different billing address" (ORG-1)
    billing_name = models.CharField(_("billing name"), max_length=200, blank=True)
    billing_street = models.CharField(_("billing street and number"), max_length=200, blank=True)
    billing_postcode = models.CharField(_("billing postcode"), max_length=20, blank=True)
    billing_city = models.CharField(_("billing city"), max_length=100, blank=True)
    billing_country = CountryField(_("billing country"), blank=True)
    billing_email = models.EmailField(_("billing email"), blank=True)
    billing_address_is_invoice_recipient = models.BooleanField(_("use as invoice recipient"), default=False)
    # BT-10 of EN 16931: public-sector buyers require their Leitweg-ID here (XRechnung).
    billing_buyer_reference = models.CharField(
        _("buyer reference (Leitweg-ID)"),
        max_length=100,
        blank=True,
        help_text=_("Printed on invoices and sent in e-invoices; public authorities give you their Leitweg-ID."),
    )

    # Public (MEDIA_URL): a random name, so logos cannot be listed or guessed (portal/files.py).
    logo = models.ImageField(_("logo"), upload_to=logo_upload_to, blank=True)

    # Partner support contact (ORG-8), shown to the partner's customers
    support_name = models.CharField(_("support contact name"), max_length=200, blank=True)
    support_email = models.EmailField(_("support email"), blank=True)
    support_phone = models.CharField(_("support phone"), max_length=50, blank=True)
    support_hours = models.CharField(_("support hours"), max_length=200, blank=True)
    support_url = models.URLField(_("support website"), blank=True)

    # Django group of all members: guardian group permissions reach the whole org (DLG-4).
    members_group = models.OneToOneField(
        Group, on_delete=models.PROTECT, null=True, blank=True, related_name="organization", editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Stored subscription flags of the customer table's filters (issue 13/16), computed by
    # `billing.services.subscription_flags_refresh` and true until `subscription_flags_valid_until`
    # (a subscription's next start or end; empty: until its subscriptions change). A change of a
    # subscription records a `billing.SubscriptionChange` first, and the filters test the
    # subscriptions themselves of an organization with one or past that moment
    # (`organizations.selectors.customer_subscription_q`): the flags make them fast, never wrong.
    has_subscription_in_force = models.BooleanField(
        _("has a paid subscription in force"), default=False, editable=False
    )
    has_trial_in_force = models.BooleanField(_("has a trial in force"), default=False, editable=False)
    subscription_flags_valid_until = models.DateTimeField(
        _("subscription flags valid until"), null=True, blank=True, editable=False
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name", "id"]
        indexes = [
            models.Index(Lower("name"), name="organization_name_lower"),
            # the duplicate warning looks up a VAT ID among all organizations (issue 16)
            models.Index(fields=["vat_id"], name="organization_vat_id", condition=~models.Q(vat_id="")),
            # The customer table's sort orders (organizations/tables.py): a page walks the index and
            # stops after its rows instead of sorting 10,000 customers (issue 13/16).
            models.Index(fields=["name", "id"], name="organization_name_order"),
            models.Index(fields=["city", "name", "id"], name="organization_city_order"),
            models.Index(fields=["status", "name", "id"], name="organization_status_order"),
            # search by any part of the name (`search_name LIKE '%…%'`, issue 13)
            TrigramGinIndex(
                OpClass(models.F("search_name"), name="gin_trgm_ops"), name="organization_search_name_trgm"
            ),
            # The subscription filters of the customer table read the few customers with the rarer
            # value by these (planner's choice by their statistics), and the refresh job finds the
            # flags whose time has passed (issue 13/16).
            models.Index(fields=["has_subscription_in_force"], name="organization_has_subscription"),
            models.Index(fields=["has_trial_in_force"], name="organization_has_trial"),
            models.Index(fields=["subscription_flags_valid_until"], name="organization_flags_valid_until"),
        ]

    def __str__(self) -> str:
        return self.name

    # Written by `billing.services.subscription_flags_refresh` only (a queryset UPDATE).
    SUBSCRIPTION_FLAG_FIELDS = ("has_subscription_in_force", "has_trial_in_force", "subscription_flags_valid_until")

    def save(self, *args, **kwargs):
        """A save of a loaded organization writes every column except the subscription flags: an
        instance read before the minute job ran would otherwise put its stale flags back."""
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and not field.generated and field.name not in self.SUBSCRIPTION_FLAG_FIELDS
            ]
        super().save(*args, **kwargs)

    save.alters_data = True

    @property
    def is_partner(self) -> bool:
        return self.kind == OrgKind.PARTNER

    ADDRESS_FIELDS = ["street", "postcode", "city", "country"]
    BILLING_ADDRESS_FIELDS = ["billing_name", "billing_street", "billing_postcode", "billing_city", "billing_country"]

    def clean(self):
        """ORG-1: postcodes fit the country, the VAT ID is valid for it, a billing address is whole."""
        from .validators import postcode_check, vat_id_normalize

        super().clean()
        errors: dict[str, list] = {}

        def check(field, func, *args):
            try:
                return func(*args)
            except ValidationError as error:
                errors.setdefault(field, []).extend(error.messages)
                return None

        check("postcode", postcode_check, self.postcode, str(self.country or ""))
        check("billing_postcode", postcode_check, self.billing_postcode, str(self.billing_country or ""))
        normalized = check("vat_id", vat_id_normalize, self.vat_id, str(self.country or ""))
        if normalized is not None:
            self.vat_id = normalized
        uses_billing_address = self.billing_address_is_invoice_recipient or any(
            getattr(self, name) for name in self.BILLING_ADDRESS_FIELDS
        )
        if uses_billing_address:
            for name in self.BILLING_ADDRESS_FIELDS:
                if not getattr(self, name):
                    errors.setdefault(name, []).append(_("Complete the billing address or leave all of it empty."))
        if errors:
            raise ValidationError(errors)

    @property
    def invoice_address(self) -> dict:
        """Where invoices to this org go (BIL-4/5): the billing address if it is the recipient."""
        if self.billing_address_is_invoice_recipient:
            return {
                "name": self.billing_name,
                "street": self.billing_street,
                "postcode": self.billing_postcode,
                "city": self.billing_city,
                "country": str(self.billing_country),
                "email": self.billing_email,
            }
        return {
            "name": self.name,
            "street": self.street,
            "postcode": self.postcode,
            "city": self.city,
            "country": str(self.country),
            "email": self.billing_email,
        }

    @property
    def is_archived(self) -> bool:
        return self.status == self.Status.ARCHIVED


class Membership(models.Model):
    """A user's role in an organization (ORG-5). One row per user and org."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user"))
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organization")
    )
    role = models.CharField(_("role"), max_length=16, choices=OrgRole.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} – {self.organization} ({self.get_role_display()})"


class CustomerRelation(models.Model):
    """A reseller relation partner → customer (ORG-2, ORG-3). At most one active per customer.

    States: requested → active | declined | cancelled; active → ended.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ACTIVE = "active", _("Active")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")
        ENDED = "ended", _("Ended")

    TRANSITIONS = {
        Status.REQUESTED: {Status.ACTIVE, Status.DECLINED, Status.CANCELLED},
        Status.ACTIVE: {Status.ENDED},
    }

    partner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="customer_relations", verbose_name=_("partner")
    )
    customer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="reseller_relations", verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    message = models.TextField(_("message"), blank=True)
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("requested by")
    )
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer relation")
        verbose_name_plural = _("customer relations")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(status="active"), name="one_active_reseller_per_customer"
            ),
            models.UniqueConstraint(
                fields=["partner", "customer"],
                condition=models.Q(status="requested"),
                name="one_open_connection_request",
            ),
            models.CheckConstraint(condition=~models.Q(partner=models.F("customer")), name="relation_not_self"),
        ]
        indexes = [
            models.Index(fields=["partner", "status"]),
            models.Index(fields=["customer", "status"]),
            # the connection requests API's order: a partner's page of its 10,000 relations walks it (issue 13)
            models.Index(fields=["-created_at", "-id"], name="relation_newest_first"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} → {self.customer} ({self.get_status_display()})"


class StaffAssignment(models.Model):
    """A partner Member (or Guest) assigned to a customer org they may reach (ORG-11)."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("partner staff")
    )
    customer = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="assigned_staff", verbose_name=_("customer")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")
        constraints = [models.UniqueConstraint(fields=["membership", "customer"], name="staff_assignment_unique")]

    def __str__(self) -> str:
        return f"{self.membership} → {self.customer}"


class AuditEvent(models.Model):
    """One state change (ORG-10): who, acting in which org, what, when, before and after.

    Rows are only ever inserted (`portal.audit.audit_record`); the admin shows them read-only.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name=_("organization"),
        help_text=_("Whose trail the event belongs to."),
    )
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("actor")
    )
    actor_email = models.CharField(_("actor email"), max_length=254, blank=True)
    acting_organization = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acting organization"),
    )
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("object type"), max_length=64)
    target_id = models.CharField(_("object id"), max_length=64)
    target_repr = models.CharField(_("object"), max_length=300)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_repr}"


# --- ORG-5: invitations ---------------------------------------------------------------------------


class Invitation(ExpiringStatus):
    """An invitation of an email address into an org with a role (ORG-5).

    States (`TRANSITIONS`): pending → accepted | revoked | expired; resending renews a pending or
    expired invitation (→ pending, new link, 7 more days). Every change goes through
    `organizations.services.invitations` and `portal.state_machine.transition`.

    Only the SHA-256 of the link's token is stored: the link exists in the email alone.
    """

    class Status(models.TextChoices):
        # A context of their own: the generic words are translated differently elsewhere.
        PENDING = "pending", pgettext_lazy("invitation status", "Pending")
        ACCEPTED = "accepted", pgettext_lazy("invitation status", "Accepted")
        REVOKED = "revoked", pgettext_lazy("invitation status", "Revoked")
        EXPIRED = "expired", pgettext_lazy("invitation status", "Expired")

    TRANSITIONS = {
        Status.PENDING: {Status.ACCEPTED, Status.REVOKED, Status.EXPIRED, Status.PENDING},
        Status.EXPIRED: {Status.PENDING},  # resend
    }
    OPEN_STATUSES = (Status.PENDING,)
    # Expiry is honoured when read (`portal.expiry`): nothing waits for the periodic job.
    EXPIRES_WHEN = (((Status.PENDING,), "expires_at"),)

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("organization")
    )
    email = models.EmailField(_("email address"), max_length=254, help_text=_("Lower case."))
    role = models.CharField(_("role"), max_length=16, choices=OrgRole.choices)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("Of the email, where the address has no account yet."),
    )
    token_hash = models.CharField(_("link token (SHA-256)"), max_length=64, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField(_("valid until"))
    with_initial_password = models.BooleanField(
        _("initial password set"),
        default=False,
        help_text=_("The inviter chose an initial password that must be changed at first login."),
    )
    # The account this invitation created with an initial password (never shown to the inviter).
    prepared_user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("prepared account"),
    )
    send_count = models.PositiveIntegerField(_("times sent"), default=0)
    sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("email handed to the mail server"), null=True, blank=True)

    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("invited by")
    )
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("accepted by")
    )
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("revoked by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expiry recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One pending invitation per org and address, also under concurrency.
            models.UniqueConstraint(
                "organization", Lower("email"), condition=models.Q(status="pending"), name="one_pending_invitation"
            ),
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="invitation_email_lower"),
        ]
        indexes = [
            # the customer table's search by contact email (`email__icontains`, issue 13)
            TrigramGinIndex(OpClass(Upper("email"), name="gin_trgm_ops"), name="invitation_email_trgm"),
            models.Index(fields=["organization", "status", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
            models.Index(Lower("email"), "status", name="invitation_email_status"),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization} ({self.get_role_display()})"


def customer_export_upload_to(export: CustomerExport, filename: str) -> str:
    """`exports/<uuid4 hex>.<format>`: a random name in private storage (never served directly)."""
    return random_name("exports", filename)


class CustomerExport(models.Model):
    """Issue 16: one export of the partner's customer table, prepared by the worker (never in a
    request) and downloadable only by the user who asked for it, inside the same partner org.
    Deleted with its file after `CUSTOMER_EXPORT_RETENTION_DAYS` (beat)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="customer_exports", verbose_name=_("organization")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("requested by")
    )
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    # The table's query string (filters, sort) and the visible columns at the time of the request.
    query = models.TextField(_("filters"), blank=True, default="")
    columns = models.JSONField(_("columns"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    file = models.FileField(
        _("file"), upload_to=customer_export_upload_to, storage=private_storage, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer export")
        verbose_name_plural = _("customer exports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "requested_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.format} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def filename(self) -> str:
        return f"customers-{self.created_at:%Y-%m-%d-%H%M}.{self.format}"
