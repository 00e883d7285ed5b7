"""Issue 16, the console's shell: grouped menu, support dropdown, way back for partner staff,
icons instead of emoji, one date format per language and inclusive end dates."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from portal.templatetags.ui import day, moment, money, until
from projects.roles import ProjectRole
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


# --- item 4: dates and money ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, date_text, moment_text",
    [("en", "2 Dec 2026", "2 Dec 2026, 21:43"), ("de", "2. Dez. 2026", "2. Dez. 2026, 21:43")],
)
def test_item4_one_date_format_per_language(language, date_text, moment_text):
    value = datetime.datetime(2026, 12, 2, 21, 43, tzinfo=BERLIN)
    with translation.override(language):
        assert day(value) == date_text
        assert day(value.date()) == date_text
        assert moment(value) == moment_text
        # Django's own named formats follow too: no page mixes "12/02/2026" and "Dec. 2, 2026".
        assert Template('{{ v|date:"SHORT_DATE_FORMAT" }}').render(Context({"v": value})) == date_text
        assert Template("{{ v|date }}").render(Context({"v": value.date()})) == date_text


@pytest.mark.parametrize("language, text", [("en", "30 Jun 2027"), ("de", "30. Juni 2027")])
def test_item4_an_inclusive_end_stored_as_next_midnight_shows_as_its_last_day(language, text):
    stored = datetime.datetime(2027, 7, 1, 0, 0, tzinfo=BERLIN)  # "until 30 June" as the portal stores it
    with translation.override(language):
        assert until(stored) == text
        assert until(stored.astimezone(datetime.UTC)) == text  # as the database hands it back
        assert until(datetime.date(2027, 6, 30)) == text  # a DateField is the last day itself


def test_item4_an_end_at_another_moment_ends_that_day_and_can_show_its_time():
    cancelled = datetime.datetime(2027, 3, 3, 14, 37, tzinfo=BERLIN)
    with translation.override("en"):
        assert until(cancelled) == "3 Mar 2027"
        assert until(cancelled, "time") == "3 Mar 2027, 14:37"
        assert until(None) == ""


@pytest.mark.parametrize(
    "language, amount, text",
    [("en", Decimal("1234.5"), "€1,234.50"), ("de", Decimal("1234.5"), "1.234,50\u00a0€"), ("en", None, "–")],
)
def test_item4_money_in_the_readers_language(language, amount, text):
    with translation.override(language):
        assert money(amount) == text


def test_item4_money_texts_are_kept_per_language_and_sign():
    """`money` keeps each text it formatted (an invoice page repeats amounts); the language, the
    sign and the currency still decide the text, and equal amounts with other places agree."""
    for _ in range(2):  # the second round reads what the first one kept
        with translation.override("de"):
            assert money(Decimal("-5.5")) == "−5,50\u00a0€"
            assert money(Decimal("5.50"), "USD") == "5,50\u00a0USD"
        with translation.override("en"):
            assert money(Decimal("-5.50")) == "−€5.50"
            assert money(Decimal("5.5")) == "€5.50"
            assert money("5.5") == "€5.50"
            assert money("NaN") == "NaN" and money(Decimal("Infinity")) == "Infinity"
            assert money("not a number") == "not a number"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, shown, hidden", [("en", "30 Jun 2030", "1 Jul 2030"), ("de", "30. Juni 2030", "1. Juli")]
)
def test_item4_a_project_role_until_30_june_shows_30_june(client, language, shown, hidden):
    project = factories.project(factories.OrganizationFactory())
    user = factories.UserFactory(language=language)
    ends = datetime.datetime(2030, 7, 1, 0, 0, tzinfo=BERLIN)
    factories.grant(project, user, ProjectRole.DEVELOPER, expires_at=ends)
    client.force_login(user)
    html = client.get(reverse("project-list")).content.decode()
    assert shown in html and hidden not in html


# --- item 3: the header ---------------------------------------------------------------------------


def _nav(html: str) -> str:
    return html[html.index('<nav class="orgnav') : html.index("</nav>", html.index('<nav class="orgnav'))]


@pytest.mark.django_db
def test_item3_the_partner_menu_is_grouped_into_at_most_six_entries(client, partner_setup):
    client.force_login(partner_setup["partner_owner"])
    html = client.get(reverse("organization-dashboard", kwargs={"org": partner_setup["partner"].public_id})).content
    nav = _nav(html.decode())
    top_level = nav.count('<li class="nav-item')
    assert 4 <= top_level <= 6, top_level  # thirteen flat links wrapped at 1366 px before
    assert nav.count('data-bs-toggle="dropdown"') >= 3
    for label in ("Customers", "Offer templates", "Subscriptions &amp; invoices", "Payment methods", "Audit trail"):
        assert label in nav
    assert 'data-bs-toggle="collapse"' in nav  # the collapsed menu on small screens


@pytest.mark.django_db
def test_item3_the_current_page_is_marked_once(client, partner_setup):
    client.force_login(partner_setup["partner_owner"])
    org = partner_setup["partner"].public_id
    nav = _nav(client.get(reverse("organization-projects", kwargs={"org": org})).content.decode())
    # Before, "Settings" matched every url name starting with "organization" (the projects page too).
    assert nav.count('aria-current="page"') == 1
    assert f'href="/o/{org}/projects/" aria-current="page"' in nav


@pytest.mark.django_db
def test_item3_partner_staff_get_a_link_back_to_their_own_org(client, partner_setup):
    client.force_login(partner_setup["partner_owner"])
    html = client.get(
        reverse("organization-dashboard", kwargs={"org": partner_setup["customer"].public_id})
    ).content.decode()
    notice = html[html.index("notice-partner") : html.index("</div>", html.index("notice-partner"))]
    back = reverse("organization-dashboard", kwargs={"org": partner_setup["partner"].public_id})
    assert f'href="{back}"' in notice and "Back to Partner GmbH" in notice


@pytest.mark.django_db
def test_item3_the_support_menu_is_a_dropdown_over_the_page(client, partner_setup):
    partner = partner_setup["partner"]
    partner.support_email = "help@partner.example"
    partner.save(update_fields=["support_email"])
    client.force_login(partner_setup["customer_owner"])
    html = client.get(reverse("organization-dashboard", kwargs={"org": partner_setup["customer"].public_id})).content
    html = html.decode()
    assert "<details" not in html  # the old disclosure opened inside the header and stretched it
    menu = html[html.index("support-menu") :]
    assert 'data-bs-toggle="dropdown"' in menu[:400] and "dropdown-menu dropdown-menu-end support-card" in menu[:5000]


@pytest.mark.django_db
def test_item1_no_emoji_as_icons_in_the_shell(client, partner_setup):
    client.force_login(partner_setup["customer_owner"])
    html = client.get(reverse("organization-dashboard", kwargs={"org": partner_setup["customer"].public_id})).content
    html = html.decode()
    assert not EMOJI.search(html)
    assert "<svg" in html and 'aria-hidden="true"' in html
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html and "cdn" not in html.lower()


@pytest.mark.django_db
def test_item3_switcher_results_are_a_listbox_of_options_with_ids(client, partner_setup):
    client.force_login(partner_setup["partner_owner"])
    html = client.get(reverse("organization-switcher"), {"q": "Kunde"}).content.decode()
    assert 'role="listbox"' in html
    assert re.search(r'<a role="option" id="org-switcher-option-1" tabindex="-1" aria-selected="false"', html)
    empty = client.get(reverse("organization-switcher"), {"q": "zzzz-nothing"}).content.decode()
    assert 'role="listbox"' not in empty and "No organization found." in empty


@pytest.mark.django_db
def test_issue13_the_menu_badges_are_counted_after_the_page(client, partner_setup):
    """Issue 13: the red badges read other apps' tables; every org page waited for them. The page
    leaves empty slots and one htmx request fills them (out-of-band swaps) after load."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from offers.tests import factories as offer_factories

    customer, partner = partner_setup["customer"], partner_setup["partner"]
    for status in ("waiting_for_confirmation", "waiting_for_confirmation", "accepted"):
        offer_factories.offer(partner, customer, status=status)
    client.force_login(partner_setup["customer_owner"])
    badges_url = reverse("organization-menu-badges", kwargs={"org": customer.public_id})
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("member-list", kwargs={"org": customer.public_id})).content.decode()
    assert not [q["sql"] for q in queries.captured_queries if '"offers_offer"' in q["sql"]]
    nav = _nav(page)
    assert '<span id="menu-badge-offers"></span>' in nav and "badge-red" not in nav
    assert f'hx-get="{badges_url}" hx-trigger="load" hx-swap="none"' in nav

    response = client.get(badges_url)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    assert (
        '<span id="menu-badge-offers" hx-swap-oob="true"> <span class="badge badge-red" aria-hidden="true">2</span>'
        in html
    )
    assert '<span id="menu-badge-requests" hx-swap-oob="true"></span>' in html  # nothing waiting: an empty slot

    # The partner's "Offers" is a dropdown (offers and templates): the group slot gets the sum.
    client.force_login(partner_setup["partner_owner"])
    html = client.get(reverse("organization-menu-badges", kwargs={"org": partner.public_id})).content.decode()
    assert '<span id="menu-group-badge-offers" hx-swap-oob="true"></span>' in html
    # Another org's badges: 404 like its pages.
    client.force_login(partner_setup["customer_owner"])
    assert client.get(reverse("organization-menu-badges", kwargs={"org": partner.public_id})).status_code == 404


@pytest.mark.django_db
def test_item3_a_customer_owner_sees_offers_as_a_plain_link(partner_setup):
    from portal.context_processors import organization_menu
    from portal.tenancy import org_context_for_organization

    context = org_context_for_organization(partner_setup["customer_owner"], partner_setup["customer"])
    groups = {group["key"]: group for group in organization_menu(context, "offer-list")}
    assert "customers" not in groups
    assert [link["label"] for link in groups["offers"]["links"]] == ["Offers"]
    assert groups["offers"]["current"] is True


# --- item 2: components ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_item2_components_render(rf: RequestFactory):
    request = rf.get("/x/?sort=name&page=3&q=a")
    html = Template(
        "{% load ui %}"
        '{% page_header title="Customers" subtitle="All of them" %}<a href="/new">New</a>{% endpage_header %}'
        '{% filter_bar reset_url="/x/" %}<input name="q" aria-label="Search">{% endfilter_bar %}'
        '{% data_table caption="List" %}<thead><tr>{% sort_header "name" "Name" %}</tr></thead>{% enddata_table %}'
        '{% data_table empty=True empty_title="No customers yet." %}{% enddata_table %}'
        '{% status_badge "active" "Active" %}'
        '{% confirm_dialog id="end" title="End?" confirm_label="End" %}Really?{% endconfirm_dialog %}'
        '<form {% confirm_attrs "end" %}></form>'
        '{% form_section title="Address" %}<input name="city">{% endform_section %}'
    ).render(Context({"request": request}))
    assert "<h1>Customers</h1>" in html and 'href="/new"' in html
    assert 'role="search"' in html and 'href="/x/"' in html
    assert 'aria-sort="ascending"' in html and "sort=-name" in html and "page=" not in html.split("sort-link")[1][:80]
    assert "No customers yet." in html
    assert 'class="status status-success">Active<' in html
    assert '<dialog id="end"' in html and 'aria-labelledby="end-title"' in html and 'data-confirm-dialog="end"' in html
    assert "<legend>Address</legend>" in html


def test_item1_no_template_uses_emoji_as_icons():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    offenders = [
        str(path.relative_to(root))
        for path in root.glob("**/templates/**/*.html")
        if ".venv" not in path.parts and EMOJI.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.django_db
def test_item7_shell_strings_in_german(client, partner_setup):
    user = partner_setup["partner_owner"]
    user.language = "de"
    user.save(update_fields=["language"])
    client.force_login(user)
    nav = _nav(
        client.get(
            reverse("organization-dashboard", kwargs={"org": partner_setup["partner"].public_id})
        ).content.decode()
    )
    assert "Abonnements &amp; Rechnungen" in nav and "Menü" in nav and "Kunden" in nav
