"""Fixtures of the organizations tests: a partner with a linked customer, a direct customer and
people in every role (ORG-1 … ORG-4, ORG-6 … ORG-11); the members and invitations tests (ORG-5)."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from organizations.models import Organization, User
from portal.models import OutboxMessage
from portal.outbox import outbox_process_message
from portal.tenancy import OrgContext, org_context_for_organization
from tests.world import CUSTOMER_PEOPLE, PARTNER_PEOPLE, World, build_world


@pytest.fixture
def world(db) -> World:
    """The shared world (tests/world.py) without the agency's release; the partner's and the
    customer's people and the direct customer's Owner made at once."""
    return build_world(caretaker=False, accounts=(*PARTNER_PEOPLE, "partner_guest", *CUSTOMER_PEOPLE, "direct_owner"))


@pytest.fixture
def members_world(db) -> World:
    """The same world for the members and invitations tests (ORG-5), whose Owners speak German."""
    return build_world(
        caretaker=False,
        languages={"partner_owner": "de", "customer_owner": "de"},
        accounts=(*PARTNER_PEOPLE, *CUSTOMER_PEOPLE),
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
