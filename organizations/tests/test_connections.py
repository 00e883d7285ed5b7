"""ORG-3: connecting an existing org by its identifier, deciding under Open requests, support
connecting directly, at most one active reseller, ending a relation."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from organizations.models import AuditEvent, CustomerRelation, StaffAssignment
from organizations.roles import OrgRole
from portal.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from portal.models import Notification
from portal.tenancy import org_context_for, organizations_for_user
from tests import factories

from ..services.relations import (
    connection_accept,
    connection_cancel,
    connection_decline,
    connection_request,
    relation_connect,
    relation_end,
)
from .conftest import ctx, send_outbox

pytestmark = pytest.mark.django_db

Status = CustomerRelation.Status


def _request(world, customer=None, actor=None, identifier=None, message="Hallo"):
    actor = actor or world.partner_admin
    customer = customer or world.direct
    return connection_request(
        context=ctx(actor, world.partner),
        actor=actor,
        message=message,
        identifier=customer.public_id if identifier is None else identifier,
    )


def test_request_by_identifier_notifies_the_customer_managers(world):
    relation = _request(world, identifier=f"  {world.direct.public_id.lower()} ")
    assert (relation.status, relation.partner, relation.customer) == (Status.REQUESTED, world.partner, world.direct)
    notification = Notification.objects.get(recipient=world.direct_owner, kind="organizations.connection_requested")
    assert notification.url == reverse("open-requests", kwargs={"org": world.direct.public_id})
    [email] = send_outbox()
    assert email.to == [world.direct_owner.email] and "Partner GmbH" in email.subject
    # no access before the customer accepts
    with pytest.raises(NotFound):
        org_context_for(world.partner_owner, world.direct.public_id)


@pytest.mark.parametrize(
    "identifier, code, message",
    [
        ("ORG-ZZZZ-ZZZZ", "unknown_identifier", "No organization has the identifier “ORG-ZZZZ-ZZZZ”"),
        ("'; DROP TABLE x;--", "unknown_identifier", "No organization has the identifier"),
        ("  ", "identifier_required", "Enter the organization's identifier"),
    ],
)
def test_unknown_identifiers_are_refused_clearly(world, identifier, code, message):
    with pytest.raises(InvalidInput) as raised:
        _request(world, identifier=identifier)
    assert raised.value.code == code and raised.value.field == "identifier"
    assert message in raised.value.message


def test_refusals_own_org_partner_org_already_customer_second_reseller_duplicate(world):
    with pytest.raises(InvalidInput, match="your own organization"):
        _request(world, identifier=world.partner.public_id)
    with pytest.raises(InvalidInput, match="Partner organizations cannot become customers"):
        _request(world, identifier=factories.PartnerFactory().public_id)
    with pytest.raises(Conflict, match="already your customer"):
        _request(world, customer=world.customer)
    other = factories.PartnerFactory()
    other_owner = factories.member(other, OrgRole.OWNER)
    with pytest.raises(Conflict) as raised:  # world.customer has world.partner as reseller
        connection_request(context=ctx(other_owner, other), actor=other_owner, identifier=world.customer.public_id)
    assert raised.value.code == "second_reseller"
    _request(world)
    with pytest.raises(Conflict, match="already asked"):
        _request(world)


def test_archived_orgs_are_unknown(world):
    from organizations.models import Organization

    Organization.objects.filter(pk=world.direct.pk).update(status="archived")
    with pytest.raises(InvalidInput, match="No organization has the identifier"):
        _request(world)


def test_accept_gives_the_partner_access_at_once(world):
    relation = _request(world)
    connection_accept(relation=relation, context=ctx(world.direct_owner, world.direct), actor=world.direct_owner)
    relation.refresh_from_db()
    assert relation.status == Status.ACTIVE and relation.decided_by == world.direct_owner and relation.activated_at
    assert org_context_for(world.partner_owner, world.direct.public_id).via_partner == world.partner
    assert world.direct in organizations_for_user(world.partner_admin)
    assert Notification.objects.filter(recipient=world.partner_owner, kind="organizations.connection_accepted").exists()
    assert AuditEvent.objects.filter(action="customer_relation.accepted", organization=world.direct).exists()
    assert AuditEvent.objects.filter(action="customer_relation.accepted", organization=world.partner).exists()


def test_decline_and_cancel(world):
    relation = _request(world)
    connection_decline(relation=relation, context=ctx(world.direct_owner, world.direct), actor=world.direct_owner)
    assert CustomerRelation.objects.get(pk=relation.pk).status == Status.DECLINED
    with pytest.raises(Conflict):  # decided requests stay decided
        connection_accept(relation=relation, context=ctx(world.direct_owner, world.direct), actor=world.direct_owner)
    second = _request(world)  # asking again after a decline is allowed
    connection_cancel(relation=second, context=ctx(world.partner_owner, world.partner), actor=world.partner_owner)
    assert CustomerRelation.objects.get(pk=second.pk).status == Status.CANCELLED
    with pytest.raises(Conflict):
        connection_decline(relation=second, context=ctx(world.direct_owner, world.direct), actor=world.direct_owner)


@pytest.mark.parametrize(
    "role, allowed", [(OrgRole.OWNER, True), (OrgRole.ADMIN, True), (OrgRole.MEMBER, False), (OrgRole.GUEST, False)]
)
def test_who_decides_on_the_customer_side(world, role, allowed):
    relation = _request(world)
    user = factories.member(world.direct, role)
    if allowed:
        connection_accept(relation=relation, context=ctx(user, world.direct), actor=user)
    else:
        with pytest.raises(PermissionDenied):
            connection_accept(relation=relation, context=ctx(user, world.direct), actor=user)
        with pytest.raises(PermissionDenied):
            connection_decline(relation=relation, context=ctx(user, world.direct), actor=user)


@pytest.mark.parametrize(
    "role, allowed", [(OrgRole.OWNER, True), (OrgRole.ADMIN, True), (OrgRole.MEMBER, False), (OrgRole.GUEST, False)]
)
def test_who_asks_on_the_partner_side(world, role, allowed):
    user = factories.member(world.partner, role)
    if allowed:
        assert _request(world, actor=user).requested_by == user
    else:
        with pytest.raises(PermissionDenied):
            _request(world, actor=user)


def test_the_partner_does_not_decide_its_own_request_and_reseller_staff_do_not_decide_for_the_customer(world):
    relation = _request(world)
    with pytest.raises(Conflict, match="Only the organization that was asked"):
        connection_accept(relation=relation, context=ctx(world.partner_owner, world.partner), actor=world.partner_owner)
    other = factories.PartnerFactory()
    other_owner = factories.member(other, OrgRole.OWNER)
    switch = CustomerRelation.objects.create(partner=other, customer=world.customer, status=Status.REQUESTED)
    for decide in (connection_accept, connection_decline):  # issue 11, item 4: a 403
        with pytest.raises(PermissionDenied, match="customer's own Owners and Admins"):
            decide(relation=switch, context=ctx(world.partner_admin, world.customer), actor=world.partner_admin)
    assert other_owner  # (the other partner exists only to ask)


def test_a_second_reseller_cannot_be_accepted(world):
    other = factories.PartnerFactory()
    relation = CustomerRelation.objects.create(partner=other, customer=world.customer, status=Status.REQUESTED)
    with pytest.raises(Conflict) as raised:
        connection_accept(
            relation=relation, context=ctx(world.customer_owner, world.customer), actor=world.customer_owner
        )
    assert raised.value.code == "second_reseller"
    assert "already has a reseller" in raised.value.message
    assert CustomerRelation.objects.get(pk=relation.pk).status == Status.REQUESTED


@pytest.mark.django_db(transaction=True)
def test_two_partners_accepted_at_once_exactly_one_wins(world):
    """Two requests of two partners, accepted concurrently: the partial unique index decides."""
    other = factories.PartnerFactory()
    first = CustomerRelation.objects.create(partner=world.partner, customer=world.direct, status=Status.REQUESTED)
    second = CustomerRelation.objects.create(partner=other, customer=world.direct, status=Status.REQUESTED)
    admin = factories.member(world.direct, OrgRole.ADMIN)
    barrier = threading.Barrier(2)
    outcomes = {}

    def accept(relation, user):
        try:
            barrier.wait(timeout=10)
            connection_accept(relation=relation, context=ctx(user, world.direct), actor=user)
            outcomes[relation.pk] = "accepted"
        except Conflict as error:
            outcomes[relation.pk] = error.code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=accept, args=(first, world.direct_owner)),
        threading.Thread(target=accept, args=(second, admin)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["accepted", "second_reseller"], outcomes
    assert CustomerRelation.objects.filter(customer=world.direct, status=Status.ACTIVE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_double_accept_of_the_same_request_has_one_winner(world):
    relation = CustomerRelation.objects.create(partner=world.partner, customer=world.direct, status=Status.REQUESTED)
    admin = factories.member(world.direct, OrgRole.ADMIN)
    barrier = threading.Barrier(2)
    outcomes = []

    def accept(user):
        try:
            barrier.wait(timeout=10)
            connection_accept(
                relation=CustomerRelation.objects.get(pk=relation.pk), context=ctx(user, world.direct), actor=user
            )
            outcomes.append("accepted")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(user,)) for user in (world.direct_owner, admin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "conflict"]
    assert AuditEvent.objects.filter(action="customer_relation.accepted", organization=world.direct).count() == 1


def test_support_connects_directly_and_turns_an_open_request_active(world):
    support = factories.UserFactory(is_staff=True)
    relation = relation_connect(partner=world.partner, customer=world.direct, actor=support)
    assert relation.status == Status.ACTIVE
    assert AuditEvent.objects.filter(action="customer_relation.connected_by_support", actor=support).count() == 2
    third = factories.OrganizationFactory()
    request = _request(world, customer=third)
    assert relation_connect(partner=world.partner, customer=third, actor=support).pk == request.pk
    with pytest.raises(Conflict) as raised:
        relation_connect(partner=factories.PartnerFactory(), customer=world.direct, actor=support)
    assert raised.value.code == "second_reseller"
    with pytest.raises(InvalidInput):
        relation_connect(partner=world.direct, customer=third, actor=support)


def _active_relation(world):
    return CustomerRelation.objects.get(customer=world.customer, status=Status.ACTIVE)


def test_partner_ends_the_relation_access_ends_at_once_hook_runs(world, monkeypatch):
    from portal import hooks

    ended = []
    monkeypatch.setitem(
        hooks._HOOKS, "customer_relation.ended", [lambda relation, actor: ended.append((relation.pk, actor))]
    )
    factories.assign(world.partner_member, world.partner, world.customer)
    relation = _active_relation(world)
    relation_end(relation=relation, context=ctx(world.partner_owner, world.partner), actor=world.partner_owner)
    relation.refresh_from_db()
    assert relation.status == Status.ENDED and relation.ended_at
    assert ended == [(relation.pk, world.partner_owner)]
    for user in (world.partner_owner, world.partner_admin, world.partner_member):
        with pytest.raises(NotFound):
            org_context_for(user, world.customer.public_id)
    assert not StaffAssignment.objects.filter(customer=world.customer).exists()
    event = AuditEvent.objects.get(action="customer_relation.ended", organization=world.customer)
    assert (
        event.before["status"] == "active" and event.after["status"] == "ended" and event.actor == world.partner_owner
    )
    assert Notification.objects.filter(recipient=world.customer_owner, kind="organizations.connection_ended").exists()
    # the customer keeps working on its own
    assert org_context_for(world.customer_owner, world.customer.public_id).reseller is None


def test_the_customer_ends_the_relation(world):
    relation_end(
        relation=_active_relation(world), context=ctx(world.customer_admin, world.customer), actor=world.customer_admin
    )
    assert not CustomerRelation.objects.filter(customer=world.customer, status=Status.ACTIVE).exists()


@pytest.mark.parametrize("role", ["customer_member", "customer_guest", "partner_member"])
def test_weaker_roles_cannot_end_a_relation(world, role):
    user = getattr(world, role)
    organization = world.partner if role.startswith("partner") else world.customer
    with pytest.raises(PermissionDenied):
        relation_end(relation=_active_relation(world), context=ctx(user, organization), actor=user)


def test_partner_staff_inside_the_customer_end_it_from_their_own_org(world):
    with pytest.raises(Conflict):
        relation_end(
            relation=_active_relation(world),
            context=ctx(world.partner_owner, world.customer),
            actor=world.partner_owner,
        )


def test_ending_twice_is_a_conflict(world):
    relation = _active_relation(world)
    relation_end(relation=relation, context=None, actor=None)
    with pytest.raises(Conflict):
        relation_end(relation=relation, context=None, actor=None)


# --- pages and API -----------------------------------------------------------------------------


def test_open_requests_page_accept_in_the_browser(world, client):
    relation = _request(world)
    client.force_login(world.direct_owner)
    url = reverse("open-requests", kwargs={"org": world.direct.public_id})
    page = client.get(url).content.decode()
    assert "Partner GmbH" in page and "Hallo" in page
    assert reverse("connection-accept", kwargs={"org": world.direct.public_id, "relation_id": relation.pk}) in page
    response = client.post(
        reverse("connection-accept", kwargs={"org": world.direct.public_id, "relation_id": relation.pk}), {"next": url}
    )
    assert response.status_code == 302 and response["Location"] == url
    assert CustomerRelation.objects.get(pk=relation.pk).status == Status.ACTIVE


def test_open_requests_badge_counts_connections_and_delegations(world, client):
    _request(world)
    client.force_login(world.direct_owner)
    badges = client.get(reverse("organization-menu-badges", kwargs={"org": world.direct.public_id})).content.decode()
    assert '<span class="visually-hidden">1 waiting</span>' in badges


def test_partner_sees_and_withdraws_its_outgoing_request(world, client):
    relation = _request(world)
    client.force_login(world.partner_owner)
    url = reverse("open-requests", kwargs={"org": world.partner.public_id})
    assert world.direct.public_id in client.get(url).content.decode()
    client.post(reverse("connection-cancel", kwargs={"org": world.partner.public_id, "relation_id": relation.pk}))
    assert CustomerRelation.objects.get(pk=relation.pk).status == Status.CANCELLED


def test_the_open_requests_sections_read_what_the_restricted_lists_hold(world):
    """The page's sections read by statements compiled once (issue 13): the same rows, in the same
    order, with the same related names, as the lists through the tenancy restriction."""
    from delegations.models import Delegation
    from delegations.selectors import delegation_list, delegation_open_requests_section
    from portal.tenancy import Scope, restrict

    from ..selectors import connection_open_requests_section, connection_requests

    _request(world)
    _request(world, customer=factories.OrganizationFactory(name="Zweite GmbH"), message="Zweite")
    for org, user in ((world.partner, world.partner_owner), (world.direct, world.direct_owner)):
        context = ctx(user, org)
        section = connection_open_requests_section(context)
        for direction in ("incoming", "outgoing"):
            expected = list(connection_requests(context=context, direction=direction)[:50])
            if direction == "outgoing" and not org.is_partner:
                expected = []
            shown = section[direction]
            assert [(r.pk, r.partner.name, r.customer.public_id, r.message) for r in shown] == [
                (r.pk, r.partner.name, r.customer.public_id, r.message) for r in expected
            ]
        delegations = delegation_open_requests_section(context)
        restricted = restrict(Delegation.objects.all(), Scope(user=user, context=context))
        for tab in ("incoming", "outgoing"):
            expected = list(delegation_list(queryset=restricted, organization=org, tab=tab)[:50])
            assert [d.pk for d in delegations[tab]] == [d.pk for d in expected]
    assert len(connection_open_requests_section(ctx(world.partner_owner, world.partner))["outgoing"]) == 2
    assert len(connection_open_requests_section(ctx(world.direct_owner, world.direct))["incoming"]) == 1


def test_connect_page_shows_the_unknown_identifier_message(world, client):
    client.force_login(world.partner_owner)
    url = reverse("customer-connect", kwargs={"org": world.partner.public_id})
    response = client.post(url, {"identifier": "ORG-NOPE-NOPE"})
    assert response.status_code == 400
    assert "No organization has the identifier “ORG-NOPE-NOPE”" in response.content.decode()
    response = client.post(url, {"identifier": world.direct.public_id})
    assert response.status_code == 302


def test_another_orgs_request_cannot_be_decided(world, client):
    other = factories.OrganizationFactory()
    relation = CustomerRelation.objects.create(partner=world.partner, customer=other, status=Status.REQUESTED)
    client.force_login(world.direct_owner)
    url = reverse("connection-accept", kwargs={"org": world.direct.public_id, "relation_id": relation.pk})
    assert client.post(url).status_code == 404
    assert CustomerRelation.objects.get(pk=relation.pk).status == Status.REQUESTED


def test_api_request_accept_and_end(world, api_client):
    api_client.force_login(world.partner_admin)
    url = reverse("connection-request-api-list", kwargs={"org": world.partner.public_id})
    response = api_client.post(url, {"identifier": "ORG-ZZZZ-ZZZZ"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_identifier"
    response = api_client.post(url, {"identifier": world.customer.public_id}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_customer"
    response = api_client.post(url, {"identifier": world.direct.public_id, "message": "Hi"}, format="json")
    assert response.status_code == 201 and response.json()["direction"] == "outgoing"
    relation_id = response.json()["id"]

    api_client.force_login(world.direct_owner)
    listed = api_client.get(
        reverse("connection-request-api-list", kwargs={"org": world.direct.public_id}), {"status": "requested"}
    )
    assert [row["id"] for row in listed.json()["results"]] == [relation_id]
    assert listed.json()["results"][0]["direction"] == "incoming"
    accept = reverse(
        "connection-request-api-accept", kwargs={"org": world.direct.public_id, "relation_id": relation_id}
    )
    assert api_client.post(accept).json()["status"] == "active"
    assert api_client.post(accept).status_code == 409

    end = reverse("organization-api-end-reseller-relation", kwargs={"org": world.direct.public_id})
    assert api_client.post(end).json()["status"] == "ended"
    assert api_client.post(end).status_code == 400

    api_client.force_login(world.partner_owner)
    end = reverse(
        "customer-api-end-relation", kwargs={"org": world.partner.public_id, "customer": world.customer.public_id}
    )
    assert api_client.post(end).json()["status"] == "ended"
    assert (
        api_client.get(reverse("organization-api-detail", kwargs={"org": world.customer.public_id})).status_code == 404
    )


def test_second_reseller_refused_in_the_api(world, api_client):
    other = factories.PartnerFactory()
    other_owner = factories.member(other, OrgRole.OWNER)
    api_client.force_login(other_owner)
    response = api_client.post(
        reverse("connection-request-api-list", kwargs={"org": other.public_id}),
        {"identifier": world.customer.public_id},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "second_reseller",
        "message": "This organization already has a reseller. It can have only one; the current relation must end first.",
        "details": {
            "identifier": [
                "This organization already has a reseller. It can have only one; the current relation must end first."
            ]
        },
    }
