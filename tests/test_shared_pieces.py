"""Issue 12, "one implementation each": expiry, the `may` filter, the offer table, the tabs and the
project-number pattern each exist once and behave the same for every user of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template import TemplateDoesNotExist, engines
from django.template.loader import get_template, render_to_string

from billing.models import Subscription
from delegations.forms import DelegationRequestForm
from delegations.models import Delegation
from organizations.models import Invitation
from organizations.roles import OrgRole
from portal.errors import InvalidInput
from projects.api.views import ProjectViewSet
from projects.numbers import PROJECT_NUMBER_REGEX, ProjectNumberConverter
from tests import factories

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BEFORE, AFTER = AT - timedelta(seconds=1), AT + timedelta(seconds=1)

EXPIRING = [Invitation, Delegation, Subscription]


# --- ExpiringStatus -----------------------------------------------------------------------------


@pytest.mark.parametrize("model", EXPIRING, ids=lambda m: m.__name__)
def test_issue12_expiring_status_open_and_due_filter_on_stored_columns(model):
    """`open()` and `due_to_expire()` exist on every expiring model and need no computed CASE in
    WHERE (issue 13 wants indexable plain-column filters)."""
    for queryset in (model.objects.open(AT), model.objects.due_to_expire(AT)):
        assert "CASE" not in str(queryset.query).upper()
    assert "CASE" in str(model.objects.with_current_status(AT).query).upper()


@pytest.mark.parametrize(
    ("model", "fields", "expired"),
    [
        (Invitation, {"status": "pending", "expires_at": BEFORE}, True),
        (Invitation, {"status": "pending", "expires_at": AT}, True),
        (Invitation, {"status": "pending", "expires_at": AFTER}, False),
        (Invitation, {"status": "accepted", "expires_at": BEFORE}, False),
        (Delegation, {"status": "pending", "respond_by": AT, "ends_at": None}, True),
        (Delegation, {"status": "pending", "respond_by": AFTER, "ends_at": AT}, True),
        (Delegation, {"status": "active", "respond_by": BEFORE, "ends_at": None}, False),
        (Delegation, {"status": "active", "respond_by": BEFORE, "ends_at": BEFORE}, True),
        (Delegation, {"status": "revoked", "respond_by": BEFORE, "ends_at": BEFORE}, False),
        (Subscription, {"status": "trial", "ends_at": AT}, True),
        (Subscription, {"status": "active", "ends_at": None}, False),
        (Subscription, {"status": "active", "ends_at": AFTER}, False),
        (Subscription, {"status": "cancelled", "ends_at": BEFORE}, False),
    ],
)
def test_issue12_expiring_status_reads_expired_once_the_date_passed(model, fields, expired):
    instance = model(**fields)
    assert instance.status_at(AT) == ("expired" if expired else fields["status"])
    assert instance.status_at(AT - timedelta(days=3650)) == fields["status"]
    instance.current_status = "expired"  # what a `with_current_status()` annotation sets
    assert instance.current_status == "expired" and instance.get_current_status_display() == "Expired"


@pytest.mark.django_db
def test_issue12_expiring_status_filters_agree_with_the_annotation_and_the_instance():
    """`open`, `due_to_expire` and `current_status_q` (stored columns) select exactly the rows whose
    `with_current_status` annotation (SQL CASE) and `status_at` (Python) say so."""
    organization = factories.OrganizationFactory()
    rows = [
        Invitation.objects.create(
            organization=organization,
            email=f"x{n}@example.com",
            role=OrgRole.MEMBER,
            token_hash=f"{n:064d}",
            status=status,
            expires_at=expires_at,
        )
        for n, (status, expires_at) in enumerate(
            [("pending", BEFORE), ("pending", AT), ("pending", AFTER), ("accepted", BEFORE), ("expired", AFTER)]
        )
    ]
    annotated = {row.pk: row.current_status for row in Invitation.objects.with_current_status(AT)}
    assert annotated == {row.pk: row.status_at(AT) for row in rows}
    assert {row.pk for row in Invitation.objects.open(AT)} == {pk for pk, s in annotated.items() if s == "pending"}
    assert {row.pk for row in Invitation.objects.due_to_expire(AT)} == {rows[0].pk, rows[1].pk}
    for statuses in (["expired"], ["pending", "accepted"], ["accepted", "expired"]):
        selected = Invitation.objects.filter(Invitation.objects.current_status_q(statuses, AT))
        assert {row.pk for row in selected} == {pk for pk, s in annotated.items() if s in statuses}, statuses


# --- portal_tags --------------------------------------------------------------------------------


def test_issue12_one_may_filter_in_portal_tags():
    libraries = engines["django"].engine.template_libraries
    defining = sorted(name for name, library in libraries.items() if {"may", "may_billing"} & set(library.filters))
    assert defining == ["portal_tags"]


class _Context:
    def __init__(self, *capabilities):
        self.capabilities = set(capabilities)

    def has(self, capability):
        return capability in self.capabilities


def test_issue12_may_filter_asks_the_role_table():
    template = engines["django"].from_string(
        '{% load portal_tags %}{% if ctx|may:"offers.view" %}yes{% else %}no{% endif %}'
    )
    assert template.render({"ctx": _Context("offers.view")}) == "yes"
    assert template.render({"ctx": _Context()}) == "no"
    assert template.render({"ctx": None}) == "no"


# --- one offer table, one tabs include ------------------------------------------------------------


def test_issue12_one_offer_table_with_a_side():
    for old in ("offers/customer/_offer_table.html", "offers/partner/_offer_table.html"):
        with pytest.raises(TemplateDoesNotExist):
            get_template(old)
    common = {"object_list": [], "still_delivering": True, "poll_url": "/poll"}
    partner = render_to_string("offers/_offer_table.html", {**common, "side": "partner"})
    customer = render_to_string("offers/_offer_table.html", {**common, "side": "customer"})
    assert 'hx-get="/poll"' in partner and "No offers yet." in partner
    assert "hx-get" not in customer and "No offers." in customer


def test_issue12_tabs_include_shows_counts_only_where_given():
    tabs = [{"key": "a", "label": "A", "url": "/a", "count": 0}, {"key": "b", "label": "B", "url": "/b"}]
    html = render_to_string("portal/_tabs.html", {"tabs": tabs, "current": "b", "label": "Tabs"})
    assert '<a href="/a" class="button">A <span class="badge">0</span></a>' in html
    assert '<a href="/b" class="button primary" aria-current="page">B</a>' in html


# --- the project-number pattern -------------------------------------------------------------------


def test_issue12_one_project_number_pattern():
    assert ProjectNumberConverter.regex == PROJECT_NUMBER_REGEX == ProjectViewSet.lookup_value_regex
    assert DelegationRequestForm(data={"project_number": " P-10042 "}).is_valid()
    for bad in ("p-١٠٠٤٢", "p-", "x-10042", "p-1234567890123456789", "p-10042x"):
        assert not DelegationRequestForm(data={"project_number": bad}).is_valid(), bad


@pytest.mark.django_db
def test_issue12_request_service_rejects_non_ascii_digits():
    """The service used `\\d` (any Unicode digit) where the URL pattern says `[0-9]`."""
    from delegations.services import project_by_number

    with pytest.raises(InvalidInput):
        project_by_number("p-١٠٠٤٢")
    assert project_by_number("P-99999") is None
