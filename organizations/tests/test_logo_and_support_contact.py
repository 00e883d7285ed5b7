"""ORG-8: logo rules (type, size, dimensions, decoding, metadata) and the partner's support contact."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from organizations.models import AuditEvent, Organization
from portal.errors import InvalidInput, NotFound, PermissionDenied

from ..services.profile import organization_logo_set, support_contact_update
from .conftest import ctx, image_bytes, upload

pytestmark = pytest.mark.django_db


def _exif_jpeg(size=(300, 300)) -> bytes:
    image = Image.new("RGB", size, (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "Secret Software 1.0"  # Software
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=b"secret comment")
    return out.getvalue()


@pytest.mark.parametrize(
    "fmt, name, content_type, extension",
    [
        ("PNG", "a.png", "image/png", ".png"),
        ("JPEG", "a.jpg", "image/jpeg", ".jpg"),
        ("WEBP", "a.webp", "image/webp", ".webp"),
    ],
)
def test_png_jpeg_and_webp_are_accepted(world, media, fmt, name, content_type, extension):
    organization = organization_logo_set(
        context=ctx(world.partner_owner, world.partner),
        actor=world.partner_owner,
        upload=upload(image_bytes(fmt, (150, 150)), name, content_type),
    )
    assert organization.logo.name.endswith(extension)
    with Image.open(organization.logo.path) as stored:
        assert stored.format == fmt and stored.size == (150, 150)
    assert AuditEvent.objects.filter(action="organization.logo_changed", organization=organization).exists()


def test_metadata_is_stripped(world, media):
    data = _exif_jpeg()
    with Image.open(io.BytesIO(data)) as original:
        assert original.getexif().get(0x010F) == "SecretCam"
    organization = organization_logo_set(
        context=ctx(world.direct_owner, world.direct),
        actor=world.direct_owner,
        upload=upload(data, "me.jpg", "image/jpeg"),
    )
    stored = open(organization.logo.path, "rb").read()
    assert b"SecretCam" not in stored and b"Secret Software" not in stored and b"secret comment" not in stored
    with Image.open(organization.logo.path) as image:
        assert not image.getexif()


def _noise_png(side: int) -> bytes:
    import os

    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "data, name, message",
    [
        (
            lambda: image_bytes("PNG", (149, 300)),
            "small.png",
            "The logo is 149×300 pixels; it must be at least 150×150 pixels.",
        ),
        (
            lambda: image_bytes("PNG", (300, 100)),
            "flat.png",
            "The logo is 300×100 pixels; it must be at least 150×150 pixels.",
        ),
        (lambda: _noise_png(700), "big.png", "at most 1 MB (1024 KB) is allowed"),
        (lambda: b"%PDF-1.4 not an image at all", "logo.png", "The file is not a PNG, JPEG or WebP image."),
        (lambda: image_bytes("PNG", (200, 200))[:200], "cut.png", "The file is not a PNG, JPEG or WebP image."),
        (
            lambda: image_bytes("GIF", (200, 200)),
            "anim.gif",
            "GIF images are not accepted; upload a PNG, JPEG or WebP image.",
        ),
        (lambda: image_bytes("BMP", (200, 200)), "old.bmp", "BMP images are not accepted"),
        (lambda: b"", "empty.png", "The file is empty."),
        (lambda: image_bytes("PNG", (4001, 200)), "wide.png", "it must be at most 4000×4000 pixels"),
        (
            lambda: b"<svg xmlns='http://www.w3.org/2000/svg' width='200' height='200'/>",
            "logo.svg",
            "The file is not a PNG, JPEG or WebP image.",
        ),
    ],
)
def test_every_logo_rule_is_enforced_with_a_clear_message(world, media, data, name, message):
    with pytest.raises(InvalidInput) as error:
        organization_logo_set(
            context=ctx(world.partner_owner, world.partner), actor=world.partner_owner, upload=upload(data(), name)
        )
    assert message in error.value.message
    assert error.value.field == "logo"
    assert not Organization.objects.get(pk=world.partner.pk).logo


def test_logo_page_answers_400_with_the_message(world, media, client):
    client.force_login(world.partner_admin)
    url = reverse("organization-logo", kwargs={"org": world.partner.public_id})
    response = client.post(url, {"logo": upload(image_bytes("PNG", (100, 100)), "tiny.png")})
    assert response.status_code == 400
    assert "it must be at least 150×150 pixels" in response.content.decode()
    response = client.post(url, {"logo": upload(image_bytes("PNG", (300, 300)), "ok.png")})
    assert response.status_code == 302
    assert Organization.objects.get(pk=world.partner.pk).logo
    assert client.post(reverse("organization-logo-remove", kwargs={"org": world.partner.public_id})).status_code == 302
    assert not Organization.objects.get(pk=world.partner.pk).logo


def test_logo_api_put_and_delete(world, media, api_client):
    api_client.force_login(world.direct_owner)
    url = reverse("organization-api-logo", kwargs={"org": world.direct.public_id})
    response = api_client.put(url, {"logo": upload(b"GIF89a nonsense", "x.gif")}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"logo": ["The file is not a PNG, JPEG or WebP image."]}
    response = api_client.put(url, {"logo": upload(image_bytes("PNG", (160, 160)))}, format="multipart")
    assert response.status_code == 200 and response.json()["logo"].endswith(".png")
    assert api_client.delete(url).json()["logo"] is None
    api_client.force_login(factory_member(world))
    assert api_client.put(url, {"logo": upload(image_bytes("PNG", (160, 160)))}, format="multipart").status_code == 403


def factory_member(world):
    from organizations.roles import OrgRole
    from tests import factories

    return factories.member(world.direct, OrgRole.MEMBER)


def test_members_cannot_upload(world, media):
    with pytest.raises(PermissionDenied):
        organization_logo_set(
            context=ctx(world.customer_member, world.customer),
            actor=world.customer_member,
            upload=upload(image_bytes("PNG")),
        )


def test_partner_logo_heads_the_pages_its_customers_see(world, media, client):
    organization_logo_set(
        context=ctx(world.partner_owner, world.partner), actor=world.partner_owner, upload=upload(image_bytes("PNG"))
    )
    logo_url = Organization.objects.get(pk=world.partner.pk).logo.url
    client.force_login(world.customer_guest)
    page = client.get(reverse("organization-dashboard", kwargs={"org": world.customer.public_id})).content.decode()
    assert f'src="{logo_url}"' in page
    client.force_login(world.direct_owner)
    page = client.get(reverse("organization-dashboard", kwargs={"org": world.direct.public_id})).content.decode()
    assert logo_url not in page


def test_support_contact_is_set_by_partner_managers_only(world):
    support_contact_update(
        context=ctx(world.partner_admin, world.partner),
        actor=world.partner_admin,
        support_name="Partner Hotline",
        support_email="help@partner.example",
        support_phone="+49 30 123",
        support_hours="Mo–Fr 9–17",
        support_url="https://partner.example/help",
    )
    assert Organization.objects.get(pk=world.partner.pk).support_email == "help@partner.example"
    with pytest.raises(PermissionDenied):
        support_contact_update(
            context=ctx(world.partner_member, world.partner), actor=world.partner_member, support_name="X"
        )
    with pytest.raises(NotFound):  # customers have no support contact of their own
        support_contact_update(
            context=ctx(world.direct_owner, world.direct), actor=world.direct_owner, support_name="X"
        )
    with pytest.raises(InvalidInput) as error:
        support_contact_update(
            context=ctx(world.partner_admin, world.partner), actor=world.partner_admin, support_email="not-an-email"
        )
    assert error.value.field == "support_email"


def test_support_menu_shows_the_partner_contact_to_customers_only(world, client):
    support_contact_update(
        context=ctx(world.partner_admin, world.partner),
        actor=world.partner_admin,
        support_name="Partner Hotline",
        support_email="help@partner.example",
        support_phone="+49 30 123",
    )
    url = reverse("organization-dashboard", kwargs={"org": world.customer.public_id})
    client.force_login(world.customer_guest)
    page = client.get(url).content.decode()
    assert "support-menu" in page and "help@partner.example" in page and "Partner Hotline" in page
    client.force_login(world.direct_owner)
    assert (
        "help@partner.example"
        not in client.get(reverse("organization-dashboard", kwargs={"org": world.direct.public_id})).content.decode()
    )
    client.force_login(world.partner_owner)  # partner staff acting in the customer: it is their own contact
    assert "support-menu" not in client.get(url).content.decode()


def test_support_contact_page(world, client):
    client.force_login(world.partner_owner)
    url = reverse("organization-support-contact", kwargs={"org": world.partner.public_id})
    response = client.post(
        url, {"support_name": "Hotline", "support_email": "x@partner.example", "support_url": "partner.example"}
    )
    assert response.status_code == 302
    assert Organization.objects.get(pk=world.partner.pk).support_url == "https://partner.example"
    client.force_login(world.customer_owner)
    assert (
        client.get(reverse("organization-support-contact", kwargs={"org": world.customer.public_id})).status_code == 404
    )


def test_document_logo_own_first_then_the_partners(world, media):
    from organizations.selectors import document_logo_for

    assert document_logo_for(world.customer) is None
    organization_logo_set(
        context=ctx(world.partner_owner, world.partner), actor=world.partner_owner, upload=upload(image_bytes("PNG"))
    )
    partner_logo = Organization.objects.get(pk=world.partner.pk).logo.name
    assert document_logo_for(Organization.objects.get(pk=world.customer.pk)).name == partner_logo
    organization_logo_set(
        context=ctx(world.customer_owner, world.customer),
        actor=world.customer_owner,
        upload=upload(image_bytes("JPEG"), "own.jpg", "image/jpeg"),
    )
    assert document_logo_for(Organization.objects.get(pk=world.customer.pk)).name.endswith(".jpg")
    assert document_logo_for(world.direct) is None
