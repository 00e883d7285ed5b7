"""Fixtures of the members and invitations tests (ORG-5)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core import mail

from organizations.models import Organization, User
from organizations.roles import OrgRole
from portal.models import OutboxMessage
from portal.outbox import outbox_process_message
from tests import factories


@dataclass
class Members:
    partner: Organization
    customer: Organization
    partner_owner: User
    partner_admin: User
    partner_member: User
    owner: User
    admin: User
    member: User
    guest: User


@pytest.fixture
def members_world(db) -> Members:
    """A partner with a linked customer org that has one person in each role."""
    partner = factories.PartnerFactory(name="Partner GmbH")
    customer = factories.OrganizationFactory(name="Kunde AG")
    factories.link(partner, customer)
    return Members(
        partner=partner,
        customer=customer,
        partner_owner=factories.member(partner, OrgRole.OWNER, language="de"),
        partner_admin=factories.member(partner, OrgRole.ADMIN),
        partner_member=factories.member(partner, OrgRole.MEMBER),
        owner=factories.member(customer, OrgRole.OWNER, language="de"),
        admin=factories.member(customer, OrgRole.ADMIN),
        member=factories.member(customer, OrgRole.MEMBER),
        guest=factories.member(customer, OrgRole.GUEST),
    )


def send_outbox() -> list:
    """Run every due outbox row as the worker would; returns the emails sent by this call."""
    before = len(mail.outbox)
    for message_id in OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).values_list("pk", flat=True):
        outbox_process_message(message_id=message_id)
    return mail.outbox[before:]


def link_token(email_message) -> str:
    """The token of the accept link in an invitation email."""
    for line in email_message.body.splitlines():
        if "/invitations/" in line:
            return line.strip().rstrip("/").rsplit("/", 1)[-1]
    raise AssertionError("no invitation link in the email")
