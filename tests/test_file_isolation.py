"""Files are isolated like rows (issue 11, item 1 "Invoice PDFs are public").

The generic test crawls, as each demo account, every page and API response it can reach (the org
routes of `tests/isolation.py` for each org it may act in, the cross-org API lists, the admin for
support staff, and every link found on the way), collects every URL that points at a file, and
then fetches each file URL anonymously and as every other demo account: whoever could not reach a
link to a private file gets 404. Public files (organization logos) are allowed to be public only
because their names are random; that is asserted instead.
"""

from __future__ import annotations

import importlib
import io
import json
import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import clear_url_caches, get_resolver, reverse, set_urlconf

from invoices.models import Invoice
from invoices.services.issuing import invoice_pdf_ensure
from organizations.roles import OrgRole
from organizations.services.profile import organization_logo_set
from portal.management.commands.seed_demo import DEMO_ACCOUNTS, seed_all
from portal.tenancy import org_context_for_organization, organizations_for_user
from tests import factories
from tests.isolation import _walk, org_routes

pytestmark = pytest.mark.django_db

EMAILS = [email for email, _ in DEMO_ACCOUNTS]
HOST = "http://testserver"
# Where a file hides in a page or an API answer.
FILE_URL = re.compile(r"(^/media/|\.pdf$|/pdf/?$|/files/|/download/?$)")
# Documents built per request rather than stored files; their access is checked, not their bytes.
GENERATED = ("text/csv", "application/xml")
HTML_LINK = re.compile(r'(?:href|src|hx-get)="([^"#]+)"')
NOT_CRAWLED = (
    "/static/",
    "/accounts/",
    "/i18n/",
    "/api/schema/",
    "/api/docs/",
    "/api/v1/auth/",
    "/admin/logout/",
    "/admin/password_change/",
    "/admin/jsi18n/",
)
NOT_CRAWLED_IN_ADMIN = ("/history/", "/delete/", "/add/", "/autocomplete/")
PAGE_BUDGET = 400
PAGE_TYPES = ("text/html", "application/json", "application/vnd.oai.openapi")
RANDOM_LOGO = re.compile(r"^/media/logos/(?P<token>[0-9a-f]{32})\.(png|jpe?g|webp)$")
RANDOM_PDF_NAME = re.compile(r"^invoices/\d{4}/(?P<token>[0-9a-f]{32})\.pdf$")


def png(size: int = 200) -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (20, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile("our-logo.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def demo(media_roots):
    """The demo data, with the invoice PDFs rendered (as the worker does) and logos uploaded."""
    demo = seed_all()
    for invoice in demo["invoices"].values():
        invoice_pdf_ensure(invoice=invoice)
    users, orgs = demo["users"], demo["orgs"]
    for user_key, org_key in (("partner", "partner"), ("direct", "direct")):
        context = org_context_for_organization(users[user_key], orgs[org_key])
        organization_logo_set(context=context, actor=users[user_key], upload=png())
    return demo


@pytest.fixture
def dev_urls(settings):
    """The URLs as `make run` (DEBUG) has them: with its media serving."""
    import portal.urls

    def load(debug: bool):
        settings.DEBUG = debug
        importlib.reload(portal.urls)
        clear_url_caches()
        set_urlconf(None)

    load(True)
    yield
    load(False)


def client_for(email: str | None) -> Client:
    client = Client()
    if email is not None:
        client.force_login(get_user_model().objects.get(email=email))
    return client


def _local_path(url: str) -> str | None:
    if url.startswith(HOST):
        url = url[len(HOST) :]
    if not url.startswith("/") or url.startswith("//"):
        return None
    parts = urlsplit(url)
    query = parts.query if re.fullmatch(r"page=\d+", parts.query or "") else ""
    return parts.path + (f"?{query}" if query else "")


def _links(response) -> set[str]:
    content_type = response.get("Content-Type", "")
    text = response.content.decode(errors="replace")
    if content_type.startswith("application/json"):
        found: set[str] = set()

        def walk(value):
            if isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)
            elif isinstance(value, str) and value.startswith(("/", HOST)):
                found.add(value)

        walk(json.loads(text or "null"))
        return found
    return set(HTML_LINK.findall(text))


def _seeds(user) -> list[str]:
    """The pages an account starts from: home, each reachable org's list pages and API lists,
    the cross-org API lists, and the admin for staff."""
    seeds = ["/", "/notifications/"]
    routes = [route for route in org_routes() if route.method == "GET" and route.kwargs == ("org",)]
    for organization in organizations_for_user(user):
        seeds += [reverse(route.name, kwargs={"org": organization.public_id}) for route in routes]
    for pattern, kwargs, namespace in _walk(get_resolver().url_patterns):
        viewset = getattr(pattern.callback, "cls", None)
        actions = getattr(pattern.callback, "actions", None) or {}
        if not kwargs and pattern.name and viewset is not None and actions.get("get") == "list":
            seeds.append(reverse(f"{namespace}{pattern.name}"))
    if user.is_staff:
        seeds.append("/admin/")
    return seeds


def crawl(email: str) -> dict[str, bytes]:
    """Every file URL `email` can reach by following links, with the bytes it got there (or b""
    where the file URL is not served in this configuration, e.g. /media/ without DEBUG)."""
    user = get_user_model().objects.get(email=email)
    client = client_for(email)
    queue, seen, file_urls = list(_seeds(user)), set(), {}
    while queue and len(seen) < PAGE_BUDGET:
        path = _local_path(queue.pop(0))
        if path is None or path in seen or path.startswith(NOT_CRAWLED):
            continue
        if path.startswith("/admin/") and any(part in path for part in NOT_CRAWLED_IN_ADMIN):
            continue
        seen.add(path)
        if FILE_URL.search(urlsplit(path).path):
            file_urls.setdefault(path, b"")
        response = client.get(path)
        if response.status_code != 200:
            continue
        content_type = response.get("Content-Type", "")
        if not content_type.startswith(PAGE_TYPES):
            file_urls[path] = response.getvalue()  # a file, whatever its URL looks like
            continue
        queue.extend(_links(response))
    assert len(seen) < PAGE_BUDGET, f"{email}: crawl budget exhausted; raise PAGE_BUDGET"
    return file_urls


def test_issue_11_item_1_every_file_url_is_isolated_between_the_demo_accounts(demo, settings):
    found = {email: crawl(email) for email in EMAILS}
    invoices = demo["invoices"]
    partner_invoice = invoices[demo["orgs"]["partner"].pk]
    direct_invoice = invoices[demo["orgs"]["direct"].pk]

    # The crawl reached what it must: each recipient's managers find their invoice's PDF links
    # (page, org API, cross-org API), and the logos head the pages.
    for email, invoice in (("partner@demo.example", partner_invoice), ("direct@demo.example", direct_invoice)):
        pdfs = {url for url, content in found[email].items() if content.startswith(b"%PDF")}
        assert f"/api/v1/invoices/{invoice.pk}/pdf/" in pdfs, sorted(found[email])
        assert any(url.startswith("/o/") for url in pdfs), sorted(found[email])
        assert any(url.startswith("/api/v1/organizations/") for url in pdfs), sorted(found[email])
    # Partner staff also find the partner invoice inside the customer org.
    kunde = demo["orgs"]["customer"].public_id
    assert f"/o/{kunde}/settings/invoices/{partner_invoice.pk}/pdf/" in found["partner@demo.example"]
    public = {url for urls in found.values() for url in urls if url.startswith("/media/")}
    assert public, "the logos should appear on the demo pages"

    # Public files: only logos, under names that carry nothing and cannot be guessed.
    tokens = set()
    for url in public:
        match = RANDOM_LOGO.match(url)
        assert match, f"{url} is public but not a logo with a random name"
        assert uuid.UUID(match["token"]).version == 4
        tokens.add(match["token"])
    assert len(tokens) == len(public)

    # Private files: exactly the accounts that reached a link get them; everyone else gets 404.
    private = {url for urls in found.values() for url in urls if not url.startswith("/media/")}
    assert private
    clients = {email: client_for(email) for email in EMAILS}
    clients[None] = client_for(None)
    for url in sorted(private):
        for email, client in clients.items():
            response = client.get(url)
            if email is not None and url in found[email]:
                assert response.status_code == 200, (url, email)
                if response.get("Content-Type", "").startswith(GENERATED):
                    continue  # built on request (itemisation CSV, XRechnung XML): access is what counts
                body = response.getvalue()  # once: a streamed file's body is read only once
                assert body == found[email][url] and body, (url, email)
            else:
                assert response.status_code == 404, (url, email or "anonymous", response.status_code)

    # Private files are stored under random names, in PRIVATE_MEDIA_ROOT, outside MEDIA_ROOT.
    stored = Invoice.objects.exclude(pdf="")
    assert stored.count() == len(invoices)
    for invoice in stored:
        assert RANDOM_PDF_NAME.match(invoice.pdf.name), invoice.pdf.name
        assert invoice.number not in invoice.pdf.name
        path = Path(invoice.pdf.path)
        assert path.is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT)) and path.exists()
        assert not path.is_relative_to(Path(settings.MEDIA_ROOT))


def test_issue_11_item_1_the_predictable_media_url_is_gone_and_only_managers_get_the_pdf(demo, dev_urls, settings):
    orgs, users = demo["orgs"], demo["users"]
    partner, kunde = orgs["partner"], orgs["customer"]
    invoice = Invoice.objects.get(pk=demo["invoices"][partner.pk].pk)
    legacy = f"/media/invoices/{invoice.year}/{invoice.number}.pdf"

    # Nothing below MEDIA_ROOT is the PDF; the old URL (and the stored name under /media/) is 404,
    # also for a file left behind in the old place, and also for the partner itself.
    assert not (Path(settings.MEDIA_ROOT) / legacy.removeprefix("/media/")).exists()
    leftover = Path(settings.MEDIA_ROOT) / "invoices" / str(invoice.year) / f"{invoice.number}.pdf"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"%PDF-1.7 left behind")
    for email in (None, "partner@demo.example"):
        client = client_for(email)
        assert client.get(legacy).status_code == 404
        assert client.get(f"/media/{invoice.pdf.name}").status_code == 404
    # The dev server still serves the (public) logos.
    partner.refresh_from_db()
    assert client_for(None).get(partner.logo.url).status_code == 200

    page = reverse("invoice-pdf", kwargs={"org": partner.public_id, "invoice_id": invoice.pk})
    inside_customer = reverse("invoice-pdf", kwargs={"org": kunde.public_id, "invoice_id": invoice.pk})
    api = f"/api/v1/invoices/{invoice.pk}/pdf/"
    org_api = f"/api/v1/organizations/{partner.public_id}/invoices/{invoice.pk}/pdf/"
    partner_admin = factories.member(partner, OrgRole.ADMIN)
    partner_member = factories.member(partner, OrgRole.MEMBER)
    managers = [users["partner"], partner_admin]
    for user in managers:
        client = Client()
        client.force_login(user)
        for url in (page, inside_customer, api, org_api):
            response = client.get(url)
            assert response.status_code == 200, (url, user.email)
            assert response["Content-Type"] == "application/pdf"
            assert response.getvalue().startswith(b"%PDF")
    others = [
        None,
        partner_member,
        *(get_user_model().objects.filter(email__in=EMAILS).exclude(pk=users["partner"].pk)),
    ]
    for user in others:
        client = Client()
        if user is not None:
            client.force_login(user)
        for url in (page, inside_customer, api, org_api):
            assert client.get(url).status_code == 404, (url, getattr(user, "email", "anonymous"))


def test_issue_11_item_1_production_hands_private_files_to_the_proxy(demo, settings):
    """With the nginx backend the app sends no bytes, only X-Accel-Redirect to the internal
    location; the proxy serves that location from PRIVATE_MEDIA_ROOT (deploy/nginx.conf)."""
    from django_sendfile.utils import _get_sendfile

    settings.SENDFILE_BACKEND = "django_sendfile.backends.nginx"
    settings.SENDFILE_URL = "/protected"
    _get_sendfile.cache_clear()
    try:
        invoice = Invoice.objects.get(pk=demo["invoices"][demo["orgs"]["direct"].pk].pk)
        response = client_for("direct@demo.example").get(f"/api/v1/invoices/{invoice.pk}/pdf/")
    finally:
        _get_sendfile.cache_clear()
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected/{invoice.pdf.name}"
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert not response.content and response.get("Content-Length", "0") == "0"  # no false length


def test_issue_11_item_1_production_reads_the_sendfile_settings_from_the_environment():
    from tests.test_settings import _setting

    env = {"SECRET_KEY": "x" * 60, "PRIVATE_MEDIA_ROOT": "/srv/private"}
    assert _setting(
        "portal.settings.production", "settings.SENDFILE_BACKEND, settings.SENDFILE_ROOT, settings.SENDFILE_URL", **env
    ) == ("('django_sendfile.backends.nginx', '/srv/private', '/protected')")
    env.update(
        SENDFILE_BACKEND="django_sendfile.backends.simple", SENDFILE_ROOT="/srv/private", SENDFILE_URL="/internal"
    )
    assert _setting("portal.settings.production", "settings.SENDFILE_BACKEND, settings.SENDFILE_URL", **env) == (
        "('django_sendfile.backends.simple', '/internal')"
    )


def test_issue_11_item_1_private_media_inside_media_root_fails_the_checks(settings):
    from portal.files import private_media_is_private

    assert private_media_is_private() == []
    settings.PRIVATE_MEDIA_ROOT = settings.SENDFILE_ROOT = Path(settings.MEDIA_ROOT) / "private"
    assert [error.id for error in private_media_is_private()] == ["portal.E101"]
