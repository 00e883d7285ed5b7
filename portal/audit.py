"""The audit action registry (ORG-10): one declaration per action code, filled by each app's `audit.py`.

An action declares a label, a sentence (gettext, named placeholders) and, per audience, which
payload fields (`before`/`after` keys) that audience may read:

- the ACTOR: the org that performed the action (`acting_organization`, else the trail's own org);
- the OTHER PARTY: any other org reading the event (the customer the event is about, or a partner
  reading its customer's trail);
- SUPPORT: reads the raw payload, only in the Django admin.

What an audience may read is an allow-list: a key not listed is never shown outside the admin.
On top of that, fields marked `partner_only` (partner conditions, payer) reach only a partner org
that performed the action itself, whatever the action declares (ORG-6): never a customer. Recording an undeclared
action or payload key raises in DEBUG and tests (`AUDIT_STRICT`), and is logged in production
(the event is still recorded: losing the trail would be worse).

Recording is here too, the one API every app writes the trail with: `audit_record` for one
event, `audit_event_build` + `audit_record_many` for a batch in one INSERT.
"""

from __future__ import annotations

import logging
import re
import string
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.forms.models import model_to_dict
from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from organizations.models import AuditEvent, Organization

logger = logging.getLogger(__name__)

DECIMAL_VALUE = re.compile(r"^-?\d+\.\d+$")


class Audience(models.TextChoices):
    ACTOR = "actor", _("the acting organization")
    OTHER_PARTY = "other_party", _("the other party")
    SUPPORT = "support", _("support")


class AuditDeclarationError(RuntimeError):
    """An action or payload key that no app's `audit.py` declares."""


# Placeholders every sentence may use: who acted (person, org), whose trail, the object.
COMMON_PLACEHOLDERS = frozenset({"actor", "actor_org", "organization", "target"})


@dataclass(frozen=True)
class AuditField:
    label: Promise | str
    # Partner conditions (prices at partner conditions, discounts, margins) and the payer: never
    # shown to a reader org that is not a partner.
    partner_only: bool = False
    kind: str = "text"  # "text", "datetime", "bool", "country" (an ISO code shown as the country's name)


@dataclass(frozen=True)
class AuditAction:
    code: str
    label: Promise | str
    sentence: Promise | str
    actor_fields: tuple[str, ...] = ()
    other_party_fields: tuple[str, ...] = ()
    # Recorded for support (raw payload in the admin), shown to no org: internal ids, file paths …
    support_fields: tuple[str, ...] = ()
    # Display labels of coded values, per field (e.g. a model's Status choices).
    values: dict = field(default_factory=dict)

    @property
    def declared_fields(self) -> frozenset[str]:
        return frozenset(self.actor_fields) | frozenset(self.other_party_fields) | frozenset(self.support_fields)

    def fields_for(self, audience: str) -> tuple[str, ...]:
        if audience == Audience.ACTOR:
            return self.actor_fields
        if audience == Audience.OTHER_PARTY:
            return self.other_party_fields
        return tuple(dict.fromkeys([*self.actor_fields, *self.other_party_fields, *self.support_fields]))

    def placeholders(self, sentence: str | None = None) -> set[str]:
        text = str(self.sentence) if sentence is None else sentence
        return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name}


FIELDS: dict[str, AuditField] = {}
ACTIONS: dict[str, AuditAction] = {}


def audit_fields(**declared: AuditField) -> None:
    """Declare payload keys (label, partner-only). A key means the same in every app."""
    for key, spec in declared.items():
        existing = FIELDS.get(key)
        if existing is not None and (existing.partner_only, existing.kind) != (spec.partner_only, spec.kind):
            raise AuditDeclarationError(f"Audit field {key!r} declared twice with different sensitivity or kind.")
        FIELDS.setdefault(key, spec)


def audit_action(code: str, *, label, sentence, actor=(), other_party=None, support=(), values=None) -> AuditAction:
    """Declare one action code. `other_party` defaults to what the actor sees."""
    action = AuditAction(
        code=code,
        label=label,
        sentence=sentence,
        actor_fields=tuple(actor),
        other_party_fields=tuple(actor if other_party is None else other_party),
        support_fields=tuple(support),
        values=dict(values or {}),
    )
    if code in ACTIONS:
        raise AuditDeclarationError(f"Audit action {code!r} declared twice.")
    for key in action.declared_fields:
        if key not in FIELDS:
            raise AuditDeclarationError(f"Audit action {code!r}: field {key!r} has no audit_fields() declaration.")
    # The sentence is read by every audience: it may only use what all of them may see.
    shared = set(action.actor_fields) & set(action.other_party_fields)
    for name in action.placeholders():
        if name in COMMON_PLACEHOLDERS:
            continue
        if name not in shared or FIELDS[name].partner_only:
            raise AuditDeclarationError(
                f"Audit action {code!r}: the sentence uses {{{name}}}, which not every audience may read."
            )
    ACTIONS[code] = action
    return action


def audit_action_get(code: str) -> AuditAction | None:
    return ACTIONS.get(code)


def audit_action_choices() -> list[tuple[str, str]]:
    """(code, translated label) of every registered action, sorted by label (filters)."""
    return sorted(((code, str(action.label)) for code, action in ACTIONS.items()), key=lambda pair: pair[1].lower())


def _strict() -> bool:
    return bool(getattr(settings, "AUDIT_STRICT", settings.DEBUG))


def audit_check(action: str, before: dict | None, after: dict | None) -> None:
    """Called by `audit_record` before writing: the action and every payload key must be declared."""
    declaration = ACTIONS.get(action)
    if declaration is None:
        problem = f"Audit action {action!r} is not declared: add it to the app's audit.py (portal.audit.audit_action)."
    else:
        undeclared = sorted({*(before or {}), *(after or {})} - declaration.declared_fields)
        if not undeclared:
            return
        problem = (
            f"Audit action {action!r} records undeclared payload keys {undeclared}: declare them in the app's audit.py."
        )
    if _strict():
        raise AuditDeclarationError(problem)
    logger.error(problem)


# --- reading: sentence and details per audience ---------------------------------------------------


def reader_organization(context):
    """The org whose view a portal reader has: partner staff acting inside a customer read as the partner."""
    return context.via_partner or context.organization


def audience_for(event, reader) -> str:
    """ACTOR when the reader's org performed the action, else the OTHER PARTY."""
    acting_id = event.acting_organization_id or event.organization_id
    return Audience.ACTOR if reader is not None and reader.pk == acting_id else Audience.OTHER_PARTY


def _reader_is_partner(reader) -> bool:
    from organizations.roles import OrgKind

    return reader is not None and reader.kind == OrgKind.PARTNER


def visible_fields(action: AuditAction | None, *, audience: str, reader) -> tuple[str, ...]:
    """The payload keys this audience may read. Partner-only keys only reach a partner that acted
    itself: not a customer, and not a later reseller reading its customer's older events."""
    if action is None:
        return ()
    keys = action.fields_for(audience)
    if audience == Audience.SUPPORT:
        return keys
    conditions_allowed = audience == Audience.ACTOR and _reader_is_partner(reader)
    return tuple(key for key in keys if conditions_allowed or not FIELDS[key].partner_only)


def display_value(action: AuditAction | None, key: str, value):
    """A payload value as a reader sees it: choice labels, dates and yes/no in their language."""
    if value is None or value == "":
        return "—"
    labels = (action.values.get(key) if action else None) or {}
    if hasattr(labels, "choices"):
        labels = dict(labels.choices)
    if isinstance(labels, dict) and value in labels:
        return str(labels[value])
    spec = FIELDS.get(key)
    if spec and spec.kind == "country" and isinstance(value, str):
        from django_countries import countries

        return str(countries.name(value)) or value
    if (
        isinstance(value, (int, float, Decimal))
        and not isinstance(value, bool)
        or (isinstance(value, str) and DECIMAL_VALUE.match(value))
    ):
        # amounts and quantities in the reader's notation ("12.50" → "12,50" in German)
        number = Decimal(str(value))
        places = max(0, -int(number.as_tuple().exponent))
        return formats.number_format(number, decimal_pos=places, use_l10n=True)
    if isinstance(value, bool) or (spec and spec.kind == "bool"):
        return gettext("yes") if value in (True, "True", "true") else gettext("no")
    if spec and spec.kind == "datetime" and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                return value
            return formats.date_format(parsed, "SHORT_DATE_FORMAT")
        return formats.date_format(parsed, "SHORT_DATE_FORMAT")
    return str(value)


@dataclass
class AuditDetail:
    key: str
    label: str
    before: object
    after: object
    before_display: str
    after_display: str


@dataclass
class AuditEntry:
    """One event as one reader sees it."""

    event: object
    audience: str
    label: str
    summary: str
    details: list[AuditDetail]


class _Placeholders(dict):
    def __missing__(self, key):  # an old event without the key: a dash, never an exception
        return "—"


def _actor_org(event) -> str:
    """Who acted, as the sentence's subject: the acting org where one was recorded; else support,
    the system, or the person (an event without an acting org may come from someone outside the
    trail's org, e.g. a caretaker answering by email: never attribute it to the trail's org)."""
    if event.acting_organization_id:
        return event.acting_organization.name
    if not event.actor_email:
        return gettext("The system")
    if event.actor_id and getattr(event.actor, "is_staff", False):
        return gettext("Support")
    return event.actor_email


def _actor(event) -> str:
    if not event.actor_email:
        return gettext("The system")
    return event.actor_email


def audit_entry(event, *, reader, audience: str | None = None) -> AuditEntry:
    """Render `event` for `reader` (an Organization; None only with audience SUPPORT)."""
    action = ACTIONS.get(event.action)
    audience = audience or audience_for(event, reader)
    before, after = event.before or {}, event.after or {}
    keys = visible_fields(action, audience=audience, reader=reader)
    details = [
        AuditDetail(
            key=key,
            label=str(FIELDS[key].label),
            before=before.get(key),
            after=after.get(key),
            before_display=display_value(action, key, before.get(key)) if key in before else "",
            after_display=display_value(action, key, after.get(key)) if key in after else "",
        )
        for key in keys
        if before.get(key) not in (None, "") or after.get(key) not in (None, "")
    ]
    if action is None:
        # An event recorded before its action was declared (or by a removed feature): no payload.
        return AuditEntry(event=event, audience=audience, label=event.action, summary=event.target_repr, details=[])
    shared = set(action.actor_fields) & set(action.other_party_fields)
    values = _Placeholders(
        actor=_actor(event),
        actor_org=_actor_org(event),
        organization=event.organization.name if event.organization_id else "",
        target=event.target_repr,
    )
    for key in action.placeholders():
        if key in shared and not FIELDS[key].partner_only:
            value = after.get(key, before.get(key))
            if key in after or key in before:
                values[key] = display_value(action, key, value)
    summary = str(action.sentence).format_map(values)
    return AuditEntry(event=event, audience=audience, label=str(action.label), summary=summary, details=details)


def audit_entries(events, *, reader) -> list[AuditEntry]:
    return [audit_entry(event, reader=reader) for event in events]


# --- recording: the one API every app writes the trail with ------------------------------------


def audit_event_build(
    *,
    action: str,
    target,
    actor=None,
    organization: Organization | None = None,
    organization_id: int | None = None,
    acting_organization: Organization | None = None,
    acting_organization_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    target_repr: str | None = None,
    created_at=None,
) -> AuditEvent:
    """One unsaved audit event, checked against the action registry above: an undeclared action or
    payload key raises under DEBUG and in tests. `audit_record` saves one, `audit_record_many` a
    batch; nothing else writes `AuditEvent` rows."""
    audit_check(action, before, after)
    if organization is None and organization_id is None:
        organization = target if isinstance(target, Organization) else getattr(target, "organization", None)
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        actor=actor_user,
        actor_email=getattr(actor_user, "email", "") or "",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=(str(target) if target_repr is None else target_repr)[:300],
        before=_jsonable(before),
        after=_jsonable(after),
    )
    if organization is not None:
        event.organization = organization
    else:
        event.organization_id = organization_id
    if acting_organization is not None:
        event.acting_organization = acting_organization
    else:
        event.acting_organization_id = acting_organization_id
    if created_at is not None:
        event.created_at = created_at
    event._audit_checked = True  # audit_record_many does not check (or log) it twice
    return event


def audit_record(
    *,
    action: str,
    target,
    actor=None,
    organization: Organization | None = None,
    acting_organization: Organization | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit trail (ORG-10). The shared mechanism every app writes to.

    `organization` is whose trail it belongs to (default: the target's org where it has one);
    `acting_organization` the org the actor acted from (a partner or caretaker org). The action
    must be declared in the app's `audit.py` (sentence, what each audience may read).
    """
    event = audit_event_build(
        action=action,
        target=target,
        actor=actor,
        organization=organization,
        acting_organization=acting_organization,
        before=before,
        after=after,
    )
    event.save(force_insert=True)
    return event


def audit_record_many(events: list[AuditEvent]) -> list[AuditEvent]:
    """Insert a batch of events in one statement (bulk jobs). Build them with `audit_event_build`;
    an event built otherwise is checked against the registry here, like a single one."""
    for event in events:
        if not getattr(event, "_audit_checked", False):
            audit_check(event.action, event.before, event.after)
    return AuditEvent.objects.bulk_create(events)


def _jsonable(data):
    if data is None:
        return None
    return {
        key: (value if isinstance(value, str | int | float | bool | type(None)) else str(value))
        for key, value in data.items()
    }


def snapshot(instance, fields: list[str]) -> dict:
    """The listed fields of an instance, for `before`/`after` of an audit event."""
    return _jsonable(model_to_dict(instance, fields=fields))
