"""Issue 11, item 2: the audit trail showed partner purchase prices, the payer and internal ids to
customers. Every action is declared in one registry (portal.audit) with sentences in English and
German and, per audience, the payload fields it may read; these tests are driven by that registry,
so a new action cannot forget it."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from billing import services as billing
from offers import services as offer_services
from offers.tests import factories as offer_factories
from organizations.models import AuditEvent
from organizations.roles import OrgRole
from portal.audit import (
    ACTIONS,
    COMMON_PLACEHOLDERS,
    FIELDS,
    Audience,
    AuditDeclarationError,
    audit_entry,
    audit_record,
)
from portal.tenancy import org_context_for_organization
from tests import factories

pytestmark = pytest.mark.django_db

PARTNER_PRICE = "14.93"  # 18.66 list price less the partner's 20 %


@pytest.fixture
def trail(db):
    partner = factories.PartnerFactory(name="Partner GmbH")
    offer_factories.discount(partner, "20")
    customer = factories.OrganizationFactory(name="Kunde AG")
    factories.link(partner, customer)
    return {
        "partner": partner,
        "customer": customer,
        "partner_owner": factories.member(partner, OrgRole.OWNER),
        "customer_owner": factories.member(customer, OrgRole.OWNER),
        "product": offer_factories.product(list_price="18.66"),
    }


def _page(client, user, organization, **params) -> str:
    client.force_login(user)
    response = client.get(reverse("audit-trail", kwargs={"org": organization.public_id}), params)
    assert response.status_code == 200
    return response.content.decode()


def _api(api_client, user, organization, **params) -> list[dict]:
    api_client.force_login(user)
    response = api_client.get(reverse("audit-event-api-list", kwargs={"org": organization.public_id}), params)
    assert response.status_code == 200
    return response.json()["results"]


# --- (a) the reported case ---------------------------------------------------------------------


def test_issue11_item2_customer_owner_sees_no_partner_price_payer_or_ids_after_booking_and_offer(
    trail, client, api_client
):
    partner, customer = trail["partner"], trail["customer"]
    subscription = billing.subscription_book(
        context=org_context_for_organization(trail["partner_owner"], customer),
        product=trail["product"],
        quantity=3,
        confirm_obligation_to_pay=True,
        actor=trail["partner_owner"],
    )
    assert subscription.unit_price == Decimal(PARTNER_PRICE) and subscription.payer == partner
    template = offer_factories.template(partner, products=[trail["product"]], actor=trail["partner_owner"])
    offer = offer_factories.offer(partner, customer, tmpl=template)
    offer_services.offer_accept(
        offer=offer,
        context=org_context_for_organization(trail["customer_owner"], customer),
        actor=trail["customer_owner"],
    )
    assert AuditEvent.objects.filter(
        organization=customer, action="subscription.provisioned_from_offer", after__unit_price=PARTNER_PRICE
    ).exists()

    page = _page(client, trail["customer_owner"], customer)
    rows = _api(api_client, trail["customer_owner"], customer)
    text = json.dumps(rows)
    details = json.dumps([row["details"] for row in rows])
    for shown in (page, text):
        assert PARTNER_PRICE not in shown
        assert "unit_price" not in shown and '"payer"' not in shown
        assert '"template"' not in shown and '"bulk_send"' not in shown  # internal ids
    assert partner.public_id not in page and partner.public_id not in details  # the payer
    assert "<dt>Payer</dt>" not in page and "<dt>Unit price</dt>" not in page
    # sentences in the reader's language instead of codes and raw JSON
    table = page.split("<tbody>")[1]
    assert "Partner GmbH booked 3 × " in table and "subscription.booked" not in table and "{&quot;" not in table
    booked = next(row for row in rows if row["action"] == "subscription.booked")
    assert booked["summary"].startswith("Partner GmbH booked 3 × ")
    assert set(booked["details"]) <= {"product", "quantity", "status", "term_ends_at", "ends_at"}
    assert not {"before", "after", "target_id", "target_type"} & set(booked)
    # the partner that acted reads its own purchase price
    partner_rows = _api(api_client, trail["partner_owner"], customer, action="subscription.booked")
    assert partner_rows[0]["details"]["unit_price"]["after"] == PARTNER_PRICE


def test_issue11_item2_a_later_reseller_does_not_read_the_previous_partners_prices(trail, api_client):
    billing.subscription_book(
        context=org_context_for_organization(trail["partner_owner"], trail["customer"]),
        product=trail["product"],
        quantity=2,
        confirm_obligation_to_pay=True,
        actor=trail["partner_owner"],
    )
    other = factories.PartnerFactory(name="Other Partner GmbH")
    # the event is the first partner's; a later reseller reading the trail is the other party
    event = AuditEvent.objects.get(action="subscription.booked")
    entry = audit_entry(event, reader=other)
    assert entry.audience == Audience.OTHER_PARTY
    assert not {"unit_price", "payer"} & {detail.key for detail in entry.details}
    assert {"unit_price", "payer"} <= {detail.key for detail in audit_entry(event, reader=trail["partner"]).details}


# --- (b) generic: every registered action × audience ---------------------------------------------


def _payload(action) -> dict:
    """Every declared key with a recognizable value, plus every partner-only key of the catalogue."""
    payload = {}
    for key in action.declared_fields:
        payload[key] = (
            f"INTERNAL-{key}"
            if key in action.support_fields
            and key not in action.fields_for(Audience.ACTOR)
            and key not in action.fields_for(Audience.OTHER_PARTY)
            else f"SHOWN-{key}"
        )
    for key, spec in FIELDS.items():
        if spec.partner_only:
            payload[key] = f"SECRET-{key}"
    return payload


def test_issue11_item2_no_registered_action_shows_partner_fields_or_internal_ids_to_the_customer(
    trail, client, api_client
):
    partner, customer = trail["partner"], trail["customer"]
    events = []
    for code, action in ACTIONS.items():
        payload = _payload(action)
        for acting in (partner, customer):  # customer as the other party, then as the actor
            events.append(
                AuditEvent(
                    organization=customer,
                    acting_organization=acting,
                    actor=trail["partner_owner"],
                    actor_email=trail["partner_owner"].email,
                    action=code,
                    target_type="organizations.organization",
                    target_id=str(customer.pk),
                    target_repr="Object",
                    before=payload,
                    after=payload,
                )
            )
    AuditEvent.objects.bulk_create(events)
    for code, action in ACTIONS.items():
        page = _page(client, trail["customer_owner"], customer, action=code)
        rows = [
            row
            for row in _api(api_client, trail["customer_owner"], customer, action=code)
            if row["action"] == code and row["target_repr"] == "Object"
        ]
        assert len(rows) == 2, code
        for shown in (page, json.dumps(rows)):
            assert "SECRET-" not in shown, code
            assert "INTERNAL-" not in shown, code
        for row in rows:
            assert not {"before", "after", "target_id", "target_type"} & set(row), code
            audience = (
                Audience.ACTOR
                if row["acting_organization"]["public_id"] == customer.public_id
                else Audience.OTHER_PARTY
            )
            assert row["audience"] == audience
            visible = {key for key in action.fields_for(audience) if not FIELDS[key].partner_only}
            assert set(row["details"]) == visible, code  # what it may see, it does see
            assert "{" not in row["summary"], code


def test_issue11_item2_partner_only_fields_reach_only_a_partner_that_acted(trail):
    partner, customer = trail["partner"], trail["customer"]
    for code, action in ACTIONS.items():
        payload = _payload(action)
        event = AuditEvent(
            organization=customer,
            acting_organization=partner,
            action=code,
            actor_email="x@example.org",
            target_type="organizations.organization",
            target_id="1",
            target_repr="Object",
            before=payload,
            after=payload,
        )
        as_partner = {d.key for d in audit_entry(event, reader=partner).details}
        as_customer = {d.key for d in audit_entry(event, reader=customer).details}
        assert not {key for key in as_customer if FIELDS[key].partner_only}, code
        assert not {key for key in as_partner if payload[key].startswith("INTERNAL-")}, code
        declared_secret = {key for key in action.fields_for(Audience.ACTOR) if FIELDS[key].partner_only}
        assert declared_secret <= as_partner, code


# --- (c) sentences in English and German --------------------------------------------------------


@pytest.mark.parametrize("code", sorted(ACTIONS))
def test_issue11_item2_every_action_has_a_sentence_in_english_and_german(code, trail):
    action = ACTIONS[code]
    with translation.override("en"):
        english, english_label = str(action.sentence), str(action.label)
    with translation.override("de"):
        german, german_label = str(action.sentence), str(action.label)
    assert german != english and german_label != english_label, f"{code}: no German translation"
    assert action.placeholders(german) == action.placeholders(english), code
    assert action.placeholders(english) <= COMMON_PLACEHOLDERS | set(action.actor_fields) & set(
        action.other_party_fields
    )
    payload = {key: f"value-{key}" for key in action.declared_fields}
    event = AuditEvent(
        organization=trail["customer"],
        acting_organization=trail["partner"],
        action=code,
        actor_email="someone@example.org",
        target_type="organizations.organization",
        target_id="1",
        target_repr="Object",
        before=payload,
        after=payload,
    )
    for language in ("en", "de"):
        with translation.override(language):
            summary = audit_entry(event, reader=trail["customer"]).summary
        assert "{" not in summary and "}" not in summary and "—" not in summary, (code, language, summary)


# --- fail loudly ---------------------------------------------------------------------------------


def test_issue11_item2_recording_an_undeclared_action_or_key_fails(trail):
    with pytest.raises(AuditDeclarationError):
        audit_record(action="organization.renamed_somehow", target=trail["customer"], after={"name": "x"})
    with pytest.raises(AuditDeclarationError):
        audit_record(action="organization.changed", target=trail["customer"], after={"city": "Ulm", "unit_price": "1"})
    assert not AuditEvent.objects.filter(action="organization.renamed_somehow").exists()


def test_without_strict_mode_an_undeclared_action_is_logged_and_still_recorded(trail, settings, caplog):
    settings.AUDIT_STRICT = False
    audit_record(action="organization.renamed_somehow", target=trail["customer"], after={"name": "x"})
    assert AuditEvent.objects.filter(action="organization.renamed_somehow").exists()
    assert "not declared" in caplog.text


def test_the_page_filters_by_translated_action_labels(trail, client):
    billing.subscription_book(
        context=org_context_for_organization(trail["partner_owner"], trail["customer"]),
        product=trail["product"],
        quantity=1,
        confirm_obligation_to_pay=True,
        actor=trail["partner_owner"],
    )
    trail["customer_owner"].language = "de"
    trail["customer_owner"].save()
    page = _page(client, trail["customer_owner"], trail["customer"], action="subscription.booked")
    assert '<option value="subscription.booked" selected>Abonnement gebucht</option>' in page
    assert "Partner GmbH hat 1 × " in page
    assert "organization.created" not in page.split("<tbody>")[1]
