"""DLG-1 (request by project number), DLG-2 (release by email), DLG-6 (duplicates), and what
participants are told: notifications and outbox emails in each recipient's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from delegations import services
from delegations.models import Delegation
from delegations.tests import factories as df
from organizations.models import AuditEvent
from portal.errors import Conflict, InvalidInput
from portal.models import Notification, OutboxMessage
from portal.outbox import outbox_process_message
from projects.models import Project
from tests import factories

pytestmark = pytest.mark.django_db


def send_outbox():
    for message_id in OutboxMessage.objects.filter(status="pending").values_list("pk", flat=True):
        outbox_process_message(message_id=message_id)


def request(world, number, **kwargs):
    return services.delegation_request(
        context=df.context(world.agency_admin, world.agency), project_number=number, actor=world.agency_admin, **kwargs
    )


# --- DLG-1 -------------------------------------------------------------------------------------


def test_request_by_project_number(world):
    delegation = request(world, f"  {world.project.number.upper()} ", message="Wir helfen gern.")
    assert (delegation.project, delegation.organization, delegation.caretaker) == (
        world.project,
        world.customer,
        world.agency,
    )
    assert (delegation.status, delegation.direction, delegation.requested_by) == (
        "pending",
        "request",
        world.agency_admin,
    )
    assert delegation.respond_by - delegation.created_at == timedelta(days=30)
    event = AuditEvent.objects.get(action="delegation.requested")
    assert (event.organization, event.acting_organization, event.actor) == (
        world.customer,
        world.agency,
        world.agency_admin,
    )


@pytest.mark.parametrize("number", ["", "10042", "project-1", "p-", "p-12x", "p-1; DROP TABLE"])
def test_request_with_a_malformed_number_is_a_clear_400(world, number):
    with pytest.raises(InvalidInput) as error:
        request(world, number)
    assert error.value.field == "project_number"
    assert "p-10042" in error.value.message


def test_item_3_unknown_archived_and_foreign_archived_projects_are_alike_dropped(world):
    """Issue 11, item 3: no "not found" any more – each is a pending request without project."""
    archived = factories.project(world.customer, "Old")
    Project.objects.filter(pk=archived.pk).update(status=Project.Status.ARCHIVED)
    gone_org = factories.OrganizationFactory()
    in_archived_org = factories.project(gone_org, "In an archived org")
    gone_org.status = "archived"
    gone_org.save()
    for number in ("p-99999999", archived.number, in_archived_org.number):
        delegation = request(world, number)
        assert (delegation.status, delegation.project, delegation.organization) == ("pending", None, None)
        assert (delegation.requested_number, delegation.dropped) == (number.lower(), "unknown_project")
    assert not Notification.objects.exists()


def test_own_project_cannot_be_requested(world):
    own = factories.project(world.agency, "Our site")
    with pytest.raises(InvalidInput) as error:
        request(world, own.number)
    assert "own organization" in error.value.message


def test_second_open_request_for_the_same_project_and_caretaker_is_refused(world):
    request(world, world.project.number)
    with pytest.raises(Conflict) as error:
        request(world, world.project.number)
    assert error.value.code == "duplicate"
    assert "already" in error.value.message


def test_an_active_delegation_also_blocks_a_new_request(world):
    df.active(world.project, world.agency)
    with pytest.raises(Conflict):
        request(world, world.project.number)


def test_after_an_end_a_new_request_is_fine(world):
    first = request(world, world.project.number)
    services.delegation_cancel(
        delegation=first, context=df.context(world.agency_admin, world.agency), actor=world.agency_admin
    )
    assert request(world, world.project.number).status == "pending"


def test_another_caretaker_may_ask_for_the_same_project(world):
    request(world, world.project.number)
    other = factories.OrganizationFactory()
    assert df.request(world.project, other).status == "pending"


def test_the_constraint_refuses_a_duplicate_that_slipped_past_the_check(world):
    """Concurrency backstop: the partial unique constraint, not only the check in the service."""
    first = request(world, world.project.number)
    duplicate = Delegation(
        project=first.project,
        organization=first.organization,
        caretaker=first.caretaker,
        direction="request",
        respond_by=first.respond_by,
    )
    with pytest.raises(Conflict):
        services._insert(duplicate)
    released = df.release(world.project, "a@example.com")
    again = Delegation(
        project=world.project,
        organization=world.customer,
        direction="release",
        invited_email="a@example.com",
        respond_by=released[0].respond_by,
    )
    with pytest.raises(Conflict):
        services._insert(again)


def test_request_end_must_be_in_the_future(world):
    with pytest.raises(InvalidInput) as error:
        request(world, world.project.number, ends_at=timezone.now() - timedelta(minutes=1))
    assert error.value.field == "ends_at"


def test_project_owners_and_admins_are_notified_and_emailed_in_their_language(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        delegation = request(world, world.project.number, message="Gern übernehmen wir das.")
    notified = Notification.objects.filter(kind="delegations.requested")
    assert {n.recipient for n in notified} == {world.customer_owner, world.customer_admin}
    assert all(n.organization == world.customer for n in notified)
    assert notified[0].url == f"/o/{world.customer.public_id}/delegations/{delegation.pk}/"
    assert "Agentur GmbH asks to take care of project" in notified.get(recipient=world.customer_admin).text
    send_outbox()
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {world.customer_owner.email, world.customer_admin.email}
    german = by_recipient[world.customer_owner.email]
    english = by_recipient[world.customer_admin.email]
    assert "möchte sich um das Projekt" in german.subject and world.project.number in german.subject
    assert "asks to take care of project" in english.subject
    assert "Gern übernehmen wir das." in german.body
    assert f"/o/{world.customer.public_id}/delegations/{delegation.pk}/" in english.body
    # nobody of the agency nor the member of the customer got one
    assert world.customer_member.email not in by_recipient


def test_decisions_are_told_to_the_caretaker(world):
    delegation = request(world, world.project.number)
    services.delegation_accept(
        delegation=delegation, context=df.context(world.customer_owner, world.customer), actor=world.customer_owner
    )
    assert {n.recipient for n in Notification.objects.filter(kind="delegations.accepted")} == {
        world.agency_owner,
        world.agency_admin,
    }
    send_outbox()
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert "ist aktiv" in subjects[world.agency_admin.email]
    assert "is active" in subjects[world.agency_owner.email]


# --- DLG-2 -------------------------------------------------------------------------------------


def release(world, projects, email, **kwargs):
    return services.delegation_release(
        context=df.context(world.customer_owner, world.customer),
        project_numbers=projects,
        email=email,
        actor=world.customer_owner,
        **kwargs,
    )


def test_release_of_several_projects_sends_one_email_with_one_link(world):
    crm = factories.project(world.customer, "CRM")
    ends_at = timezone.now() + timedelta(days=90)
    released = release(
        world, [world.project.number, crm.number], " Care@Agency.example ", ends_at=ends_at, message="Danke!"
    )
    assert [d.project for d in released] == [world.project, crm]
    assert {(d.invited_email, d.ends_at, d.caretaker_id, d.direction) for d in released} == {
        ("care@agency.example", ends_at, None, "release")
    }
    send_outbox()
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["care@agency.example"]
    assert f"/delegations/accept/{released[0].token}/" in email.body
    assert world.project.number in email.body and crm.number in email.body and "Danke!" in email.body
    # unknown address: the releasing user's language (German here)
    assert "Kunde AG bittet Sie" in email.subject
    assert AuditEvent.objects.filter(action="delegation.released", organization=world.customer).count() == 2


def test_release_email_in_the_addressees_language_where_known(world):
    release(world, [world.project.number], world.agency_owner.email)  # agency_owner reads English
    send_outbox()
    assert "asks you to take care of projects" in mail.outbox[0].subject


def test_release_end_date_must_be_in_the_future(world):
    with pytest.raises(InvalidInput) as error:
        release(world, [world.project.number], "care@agency.example", ends_at=timezone.now() - timedelta(days=1))
    assert (error.value.field, error.value.message) == ("ends_at", "The end of access must be in the future.")
    assert not Delegation.objects.exists()


@pytest.mark.parametrize(
    "projects, email, field",
    [
        ([], "care@agency.example", "projects"),
        (["p-1"], "care@agency.example", "projects"),
        (["PROJECT"], "not-an-email", "email"),
    ],
)
def test_release_input_errors_name_the_field(world, projects, email, field):
    with pytest.raises(InvalidInput) as error:
        release(world, projects, email)
    assert error.value.field == field


def test_release_only_of_own_active_projects(world):
    foreign = factories.project(world.agency, "Not yours")
    archived = factories.project(world.customer, "Archived")
    Project.objects.filter(pk=archived.pk).update(status=Project.Status.ARCHIVED)
    with pytest.raises(InvalidInput) as error:
        release(world, [world.project.number, foreign.number], "care@agency.example")
    assert foreign.number in error.value.message
    with pytest.raises(InvalidInput) as error:
        release(world, [archived.number], "care@agency.example")
    assert "Archived" in error.value.message
    assert not Delegation.objects.exists()  # all or nothing


def test_second_pending_release_to_the_same_address_is_refused(world):
    release(world, [world.project.number], "care@agency.example")
    with pytest.raises(Conflict) as error:
        release(world, [world.project.number], "CARE@agency.example")
    assert world.project.number in error.value.message


def test_accepting_a_release_where_the_caretaker_already_cares_is_refused(world):
    df.active(world.project, world.agency)
    released = release(world, [world.project.number], world.agency_admin.email)
    with pytest.raises(Conflict) as error:
        services.delegation_release_accept(token=released[0].token, user=world.agency_admin, caretaker=world.agency)
    assert error.value.code == "duplicate"
    assert Delegation.objects.get(pk=released[0].pk).status == "pending"


def test_members_cannot_request_or_release(world):
    from portal.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.delegation_request(
            context=df.context(world.agency_member, world.agency),
            project_number=world.project.number,
            actor=world.agency_member,
        )
    with pytest.raises(PermissionDenied):
        services.delegation_release(
            context=df.context(world.customer_member, world.customer),
            project_numbers=[world.project.number],
            email="x@example.com",
            actor=world.customer_member,
        )


def test_release_acceptance_tells_the_project_side(world):
    released = release(world, [world.project.number], world.agency_admin.email)
    services.delegation_release_accept(token=released[0].token, user=world.agency_admin, caretaker=world.agency)
    assert {n.recipient for n in Notification.objects.filter(kind="delegations.accepted")} == {
        world.customer_owner,
        world.customer_admin,
    }


def test_a_failed_release_sends_nothing(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(InvalidInput):
            with transaction.atomic():
                release(world, [world.project.number, "p-424242"], "care@agency.example")
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []
