"""Payment methods (BIL-6): SEPA direct debit or bank transfer; never card numbers.

Called by the payment-method pages and API with the org context of the request; every service
checks "payment_methods.manage" (partner-only, ORG-6: a partner-linked customer's own accounts
never reach it) and records the change in the audit trail with the masked IBAN only.

- The IBAN is validated with python-stdnum (format, length per country, check digits); a bad
  one is refused with a message saying what is wrong. It is stored compact and shown masked.
- A SEPA direct debit needs the account holder's consent to the mandate; the mandate reference
  is generated (unique, 35 characters at most as SEPA allows).
- One default per org (a partial unique constraint); the first method becomes the default.
"""

from __future__ import annotations

import re
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

from portal.audit import audit_record
from portal.errors import InvalidInput, NotFound
from portal.tenancy import OrgContext

from ..models import PaymentMethod
from ..vat import EU_COUNTRIES

# Countries of the SEPA scheme (EU/EEA and the non-EEA participants).
SEPA_COUNTRIES = EU_COUNTRIES | {"IS", "LI", "NO", "CH", "GB", "MC", "SM", "VA", "AD", "AL", "MD", "ME", "MK"}
IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{8,30}")
MANDATE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def iban_clean(value: str) -> str:
    """The compact IBAN, or InvalidInput (field "iban") explaining what is wrong."""
    raw = (value or "").strip()
    if not raw:
        raise InvalidInput(_("Enter the IBAN of the account to debit."), field="iban")
    if not IBAN_SHAPE.fullmatch(stdnum_iban.compact(raw)):
        raise InvalidInput(
            _("This is not an IBAN: it must start with a country code and contain only letters and digits."),
            field="iban",
        )
    try:
        compact = stdnum_iban.validate(raw)
    except InvalidChecksum:
        raise InvalidInput(
            _("This IBAN is not valid: its check digits do not match. Please check it for typos."), field="iban"
        ) from None
    except InvalidLength:
        raise InvalidInput(_("This IBAN has the wrong length for its country."), field="iban") from None
    except ValidationError:
        raise InvalidInput(
            _("This is not an IBAN: it must start with a country code and contain only letters and digits."),
            field="iban",
        ) from None
    if compact[:2] not in SEPA_COUNTRIES:
        raise InvalidInput(_("Direct debit needs an account in the SEPA area."), field="iban")
    return compact


def bic_clean(value: str) -> str:
    raw = (value or "").strip().upper().replace(" ", "")
    if not raw:
        return ""
    if not stdnum_bic.is_valid(raw):
        raise InvalidInput(_("This BIC is not valid (8 or 11 letters and digits, e.g. COBADEFFXXX)."), field="bic")
    return raw


def _mandate_reference(context: OrgContext) -> str:
    suffix = "".join(secrets.choice(MANDATE_ALPHABET) for _ in range(10))
    return f"RP-{context.organization.public_id.removeprefix('ORG-')}-{suffix}"


def _snapshot(method: PaymentMethod) -> dict:
    return {
        "kind": method.kind,
        "iban": method.masked_iban,
        "mandate_reference": method.mandate_reference or "",
        "is_default": method.is_default,
    }


@transaction.atomic
def payment_method_add(
    *,
    context: OrgContext,
    kind: str,
    actor,
    account_holder: str = "",
    iban: str = "",
    bic: str = "",
    accept_mandate: bool = False,
    make_default: bool = False,
) -> PaymentMethod:
    """Add SEPA direct debit (IBAN, account holder, mandate consent) or bank transfer."""
    context.require("payment_methods.manage")
    organization = context.organization
    if kind not in PaymentMethod.Kind.values:
        raise InvalidInput(_("Choose SEPA direct debit or bank transfer."), field="kind")
    fields: dict = {"kind": kind}
    if kind == PaymentMethod.Kind.SEPA_DIRECT_DEBIT:
        holder = (account_holder or "").strip()
        if not holder:
            raise InvalidInput(_("Enter the account holder."), field="account_holder")
        if len(holder) > 200:
            raise InvalidInput(_("The account holder may have at most 200 characters."), field="account_holder")
        fields.update(account_holder=holder, iban=iban_clean(iban), bic=bic_clean(bic))
        if not accept_mandate:
            raise InvalidInput(
                _("Direct debit needs your SEPA mandate: confirm that we may collect the invoice amounts."),
                field="accept_mandate",
            )
        fields.update(mandate_reference=_mandate_reference(context), mandate_signed_on=timezone.localdate())
    elif PaymentMethod.objects.filter(
        organization=organization, kind=PaymentMethod.Kind.BANK_TRANSFER, removed_at__isnull=True
    ).exists():
        raise InvalidInput(_("Bank transfer is already one of your payment methods."), field="kind")

    # Lock the org's methods: two concurrent adds cannot both become the first default.
    active = list(PaymentMethod.objects.select_for_update().filter(organization=organization, removed_at__isnull=True))
    is_default = make_default or not any(method.is_default for method in active)
    if is_default:
        PaymentMethod.objects.filter(organization=organization, is_default=True).update(is_default=False)
    method = PaymentMethod.objects.create(organization=organization, is_default=is_default, created_by=actor, **fields)
    audit_record(
        action="payment_method.added",
        target=method,
        actor=actor,
        organization=organization,
        acting_organization=context.via_partner,
        after=_snapshot(method),
    )
    return method


def _get(context: OrgContext, payment_method_id: int, *, lock: bool = False) -> PaymentMethod:
    queryset = PaymentMethod.objects.filter(organization=context.organization, removed_at__isnull=True)
    if lock:
        queryset = queryset.select_for_update()
    method = queryset.filter(pk=payment_method_id).first()
    if method is None:
        raise NotFound(_("Not found."))
    return method


@transaction.atomic
def payment_method_set_default(*, context: OrgContext, payment_method_id: int, actor) -> PaymentMethod:
    """Make this method the one future invoices name (and collect by, for direct debit)."""
    context.require("payment_methods.manage")
    method = _get(context, payment_method_id, lock=True)
    if method.is_default:
        return method
    before = _snapshot(method)
    PaymentMethod.objects.filter(organization=context.organization, is_default=True).update(is_default=False)
    PaymentMethod.objects.filter(pk=method.pk).update(is_default=True)
    method.is_default = True
    audit_record(
        action="payment_method.default_set",
        target=method,
        actor=actor,
        organization=context.organization,
        acting_organization=context.via_partner,
        before=before,
        after=_snapshot(method),
    )
    return method


@transaction.atomic
def payment_method_remove(*, context: OrgContext, payment_method_id: int, actor) -> PaymentMethod:
    """Remove a method (the row stays for the record; issued invoices keep their text)."""
    context.require("payment_methods.manage")
    method = _get(context, payment_method_id, lock=True)
    before = _snapshot(method)
    PaymentMethod.objects.filter(pk=method.pk).update(removed_at=timezone.now(), is_default=False)
    method.refresh_from_db()
    audit_record(
        action="payment_method.removed",
        target=method,
        actor=actor,
        organization=context.organization,
        acting_organization=context.via_partner,
        before=before,
        after=_snapshot(method),
    )
    return method
