"""The offer state machine: every allowed transition, every refused one (409), each in the audit
trail; who may do what (a Guest or a Member cannot accept)."""

from __future__ import annotations

import pytest

from offers import services
from offers.models import Offer
from organizations.models import AuditEvent
from portal.errors import Conflict, NotFound, PermissionDenied
from portal.hooks import _HOOKS

from . import factories as of

pytestmark = pytest.mark.django_db
S = Offer.Status
ALL = list(S.values)


def offer_in(world, status):
    return of.offer(
        world.partner, world.customer, status=status, tmpl=of.template(world.partner, products=world.products)
    )


def partner(world):
    return of.context(world.partner_owner, world.partner)


def customer(world, user=None):
    return of.context(user or world.customer_owner, world.customer)


ACTIONS = {
    # action: (function, side, target, allowed sources)
    "deliver": (lambda w, o: services.offer_deliver(offer_id=o.pk), S.WAITING_FOR_CONFIRMATION, {S.WAITING}),
    "fail": (
        lambda w, o: services.offer_delivery_failed({"offer_id": o.pk, "round": o.delivery_attempt}),
        S.DELIVERY_FAILED,
        {S.WAITING},
    ),
    "retry": (
        lambda w, o: services.offer_retry_delivery(offer=o, context=partner(w), actor=w.partner_owner),
        S.WAITING,
        {S.DELIVERY_FAILED},
    ),
    "cancel": (
        lambda w, o: services.offer_cancel(offer=o, context=partner(w), actor=w.partner_owner),
        S.CANCELLED,
        {S.WAITING, S.WAITING_FOR_CONFIRMATION, S.DELIVERY_FAILED},
    ),
    "accept": (
        lambda w, o: services.offer_accept(offer=o, context=customer(w), actor=w.customer_owner),
        S.ACCEPTED,
        {S.WAITING_FOR_CONFIRMATION},
    ),
    "decline": (
        lambda w, o: services.offer_decline(offer=o, context=customer(w), actor=w.customer_owner, reason="zu teuer"),
        S.DECLINED,
        {S.WAITING_FOR_CONFIRMATION},
    ),
}
AUDIT = {
    "deliver": "delivered",
    "fail": "delivery_failed",
    "retry": "delivery_retried",
    "cancel": "cancelled",
    "accept": "accepted",
    "decline": "declined",
}
CASES = [(action, source) for action in ACTIONS for source in ALL]


@pytest.mark.parametrize("action, source", CASES, ids=[f"{a}-from-{s}" for a, s in CASES])
def test_every_transition_allowed_or_refused(world, action, source):
    function, target, sources = ACTIONS[action]
    offer = offer_in(world, source)
    before = AuditEvent.objects.filter(target_id=str(offer.pk), action=f"offer.{AUDIT[action]}").count()
    if source in sources:
        function(world, offer)
        offer.refresh_from_db()
        assert offer.status == target
        assert AuditEvent.objects.filter(target_id=str(offer.pk), action=f"offer.{AUDIT[action]}").count() > before
        event = AuditEvent.objects.filter(target_id=str(offer.pk), action=f"offer.{AUDIT[action]}").latest("id")
        assert event.after["status"] == target
    else:
        if action in ("deliver", "fail"):  # background work: a no-op, never an error
            function(world, offer)
        else:
            with pytest.raises(Conflict):
                function(world, offer)
        offer.refresh_from_db()
        assert offer.status == source
        assert AuditEvent.objects.filter(target_id=str(offer.pk), action=f"offer.{AUDIT[action]}").count() == before


def test_the_table_matches_the_spec():
    assert Offer.TRANSITIONS == {
        S.WAITING: {S.WAITING_FOR_CONFIRMATION, S.DELIVERY_FAILED, S.CANCELLED},
        S.WAITING_FOR_CONFIRMATION: {S.ACCEPTED, S.DECLINED, S.CANCELLED},
        S.DELIVERY_FAILED: {S.WAITING, S.CANCELLED},
    }


@pytest.mark.parametrize("role", ["customer_member", "customer_guest"])
@pytest.mark.parametrize("decision", ["accept", "decline"])
def test_guest_and_member_cannot_decide(world, role, decision, api_client):
    offer = offer_in(world, S.WAITING_FOR_CONFIRMATION)
    user = getattr(world, role)
    with pytest.raises(PermissionDenied):
        getattr(services, f"offer_{decision}")(offer=offer, context=customer(world, user), actor=user)
    api_client.force_authenticate(user)
    response = api_client.post(f"/api/v1/organizations/{world.customer.public_id}/offers/{offer.pk}/{decision}/")
    assert response.status_code == 403, response.content
    offer.refresh_from_db()
    assert offer.status == S.WAITING_FOR_CONFIRMATION


def test_partner_cannot_accept_from_its_own_org_and_customer_cannot_cancel(world, api_client):
    offer = offer_in(world, S.WAITING_FOR_CONFIRMATION)
    api_client.force_authenticate(world.partner_owner)
    assert (
        api_client.post(f"/api/v1/organizations/{world.partner.public_id}/offers/{offer.pk}/accept/").status_code == 404
    )
    api_client.force_authenticate(world.customer_owner)
    assert (
        api_client.post(f"/api/v1/organizations/{world.customer.public_id}/offers/{offer.pk}/cancel/").status_code
        == 404
    )
    with pytest.raises(NotFound):
        services.offer_cancel(offer=offer, context=customer(world), actor=world.customer_owner)
    offer.refresh_from_db()
    assert offer.status == S.WAITING_FOR_CONFIRMATION


def test_accept_provisions_licenses_once_through_the_hook(world):
    calls = []

    def record(**kwargs):
        calls.append(kwargs)

    _HOOKS["offer.accepted"].append(record)
    try:
        offer = offer_in(world, S.WAITING_FOR_CONFIRMATION)
        services.offer_accept(offer=offer, context=customer(world), actor=world.customer_owner)
        with pytest.raises(Conflict):
            services.offer_accept(offer=offer, context=customer(world), actor=world.customer_owner)
    finally:
        _HOOKS["offer.accepted"].remove(record)
    assert len(calls) == 1
    call = calls[0]
    assert (call["offer_id"], call["partner"], call["customer"], call["actor"]) == (
        offer.pk,
        world.partner,
        world.customer,
        world.customer_owner,
    )
    assert [item["product_id"] for item in call["items"]] == [p.pk for p in world.products]
    offer.refresh_from_db()
    assert offer.licenses_provisioned_at is not None
    # absolute items end one term after acceptance; relative ones start when first assigned
    absolute = offer.items.get(product=world.products[0])
    assert call["items"][0]["ends_on"] == absolute.ends_on and absolute.ends_on is not None
    assert str(call["items"][0]["unit_price"]) == "10.00"


def test_decline_keeps_reason_and_tells_the_partner(world):
    from portal.models import Notification

    offer = offer_in(world, S.WAITING_FOR_CONFIRMATION)
    services.offer_decline(offer=offer, context=customer(world), actor=world.customer_admin, reason="Zu teuer.")
    offer.refresh_from_db()
    assert (offer.decline_reason, offer.decided_by) == ("Zu teuer.", world.customer_admin)
    assert Notification.objects.filter(kind="offers.declined", recipient=world.partner_owner).exists()


def test_item_4_partner_staff_cannot_consent_for_the_customer_even_calling_the_service(world):
    """Issue 11, item 4: the partner must not accept (or decline) its own offer in the customer's name."""
    from portal.errors import PermissionDenied

    offer = offer_in(world, S.WAITING_FOR_CONFIRMATION)
    partner_inside = of.context(world.partner_admin, world.customer)
    with pytest.raises(PermissionDenied, match="customer's own Owners and Admins"):
        services.offer_accept(offer=offer, context=partner_inside, actor=world.partner_admin)
    with pytest.raises(PermissionDenied, match="customer's own Owners and Admins"):
        services.offer_decline(offer=offer, context=partner_inside, actor=world.partner_admin)
    offer.refresh_from_db()
    assert offer.status == S.WAITING_FOR_CONFIRMATION and offer.licenses_provisioned_at is None
    assert not AuditEvent.objects.filter(action__in=["offer.accepted", "offer.declined"]).exists()


def test_ending_the_relation_cancels_open_offers(world):
    from organizations.models import CustomerRelation
    from portal.hooks import run_hooks

    open_offer = offer_in(world, S.WAITING_FOR_CONFIRMATION)
    accepted = offer_in(world, S.ACCEPTED)
    relation = CustomerRelation.objects.get(partner=world.partner, customer=world.customer)
    run_hooks("customer_relation.ended", relation=relation, actor=world.partner_owner)
    open_offer.refresh_from_db()
    accepted.refresh_from_db()
    assert (open_offer.status, accepted.status) == (S.CANCELLED, S.ACCEPTED)
