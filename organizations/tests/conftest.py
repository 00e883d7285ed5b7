"""Fixtures of the organizations tests: a partner with a linked customer, a direct customer and
people in every role (ORG-1 … ORG-4, ORG-6 … ORG-11); the members and invitations tests (ORG-5)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from organizations.models import Organization, User
from organizations.roles import OrgRole
from portal.models import OutboxMessage
from portal.outbox import outbox_process_message
from portal.tenancy import OrgContext, org_context_for_organization
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


@dataclass
class World:
    partner: Organization
    customer: Organization
    direct: Organization
    partner_owner: User
    partner_admin: User
    partner_member: User
    partner_guest: User
    customer_owner: User
    customer_admin: User
    customer_member: User
    customer_guest: User
    direct_owner: User


@pytest.fixture
def world(db) -> World:
    partner = factories.PartnerFactory(name="Partner GmbH")
    customer = factories.OrganizationFactory(name="Kunde AG")
    factories.link(partner, customer)
    direct = factories.OrganizationFactory(name="Direkt GmbH")
    return World(
        partner=partner,
        customer=customer,
        direct=direct,
        partner_owner=factories.member(partner, OrgRole.OWNER),
        partner_admin=factories.member(partner, OrgRole.ADMIN),
        partner_member=factories.member(partner, OrgRole.MEMBER),
        partner_guest=factories.member(partner, OrgRole.GUEST),
        customer_owner=factories.member(customer, OrgRole.OWNER),
        customer_admin=factories.member(customer, OrgRole.ADMIN),
        customer_member=factories.member(customer, OrgRole.MEMBER),
        customer_guest=factories.member(customer, OrgRole.GUEST),
        direct_owner=factories.member(direct, OrgRole.OWNER),
    )


def ctx(user: User, organization: Organization) -> OrgContext:
    return org_context_for_organization(user, Organization.objects.get(pk=organization.pk))


def image_bytes(fmt: str = "PNG", size=(200, 200), color=(200, 30, 30), **save) -> bytes:
    from PIL import Image

    mode = "RGBA" if fmt == "PNG" else "RGB"
    image = Image.new(mode, size, color)
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def upload(data: bytes, name: str = "logo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
