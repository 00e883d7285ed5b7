"""PRJ-3, onboarding method 2: partner staff give end-customer users roles on projects of the
partner org. Such users hold no org membership and see exactly their projects – in every list,
search, count, API answer and notification."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from organizations.models import AuditEvent, Membership, User
from organizations.roles import OrgRole
from portal.models import Notification
from projects.models import ProjectRoleGrant
from projects.roles import ProjectRole
from projects.services import project_grant_role, project_member_add
from tests import factories

pytestmark = pytest.mark.django_db

SUCCESS = "The role was granted. We sent an email to the address with a link to the project."


@pytest.fixture
def partner_world():
    partner = factories.PartnerFactory(name="Partner GmbH")
    customer = factories.OrganizationFactory(name="Customer AG")
    factories.link(partner, customer)
    return {
        "partner": partner,
        "customer": customer,
        "staff": factories.member(partner, OrgRole.ADMIN),
        "shop": factories.project(partner, "Müller shop"),
        "intranet": factories.project(partner, "Schmidt intranet"),
        "customer_web": factories.project(customer, "Customer website"),
    }


def add_member(client, project, **data):
    payload = {"email": "", "role": "viewer", "valid_until": "", "language": "en", **data}
    return client.post(reverse("project-members", kwargs={"number": project.number}), payload, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- adding people by email ------------------------------------------------------------------


def test_a_new_address_gets_an_account_without_password_and_an_email_to_choose_it(
    client, partner_world, django_capture_on_commit_callbacks
):
    client.force_login(partner_world["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        response = add_member(client, partner_world["shop"], email="Emil@Example.com", role="developer", language="de")
    assert messages_of(response) == [SUCCESS]

    emil = User.objects.get(email="emil@example.com")
    assert not emil.has_usable_password()
    assert emil.language == "de"
    assert not Membership.objects.filter(user=emil).exists()  # no org-wide rights
    grant = ProjectRoleGrant.objects.get(user=emil)
    assert (grant.project, grant.role, grant.source) == (partner_world["shop"], "developer", "direct")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["emil@example.com"]
    assert "Passwort" in message.subject  # in the chosen language
    assert partner_world["shop"].number in message.body
    link = re.search(r"https?://[^/]+(/accounts/password/choose/\S+/)", message.body).group(1)

    # the link lets the person choose a password and sign in
    client.logout()
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and "new_password1" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "a-fresh-passw0rd!", "new_password2": "a-fresh-passw0rd!"}
    )
    assert done.status_code == 302
    login = client.post(reverse("login"), {"username": "emil@example.com", "password": "a-fresh-passw0rd!"})
    assert login.status_code == 302
    assert [p.number for p in client.get(reverse("project-list")).context["object_list"]] == [
        partner_world["shop"].number
    ]
    # the link works once
    assert "new_password1" not in client.get(link, follow=True).content.decode()


def test_an_existing_account_gets_the_same_answer_and_a_notice_in_its_own_language(
    client, partner_world, django_capture_on_commit_callbacks
):
    existing = factories.UserFactory(email="karla@example.com", language="de")
    client.force_login(partner_world["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        response = add_member(client, partner_world["shop"], email="KARLA@example.com", language="en")
    assert messages_of(response) == [SUCCESS]
    assert ProjectRoleGrant.objects.get(user=existing).role == "viewer"
    assert User.objects.filter(email__iexact="karla@example.com").count() == 1
    assert existing.has_usable_password()
    [message] = mail.outbox
    assert message.to == ["karla@example.com"]
    assert "Zugriff" in message.subject  # the account's own language
    assert "/accounts/password/choose/" not in message.body and "/accounts/password/reset/" not in message.body
    assert reverse("project-detail", kwargs={"number": partner_world["shop"].number}) in message.body
    notification = Notification.objects.get(recipient=existing)
    assert partner_world["shop"].number in notification.text


def test_page_and_api_answers_do_not_reveal_whether_an_account_existed(
    client, api_client, partner_world, django_capture_on_commit_callbacks
):
    factories.UserFactory(email="known@example.com", first_name="Known", last_name="Person")
    staff, shop = partner_world["staff"], partner_world["shop"]
    client.force_login(staff)

    def page_answer(email):
        response = add_member(client, shop, email=email)
        html = response.content.decode()
        return messages_of(response), html.count(email), "Known" in html

    assert page_answer("known@example.com") == page_answer("unknown@example.com")

    api_client.force_login(staff)
    url = reverse("api-project-grant-list", kwargs={"project_number": shop.number})

    def api_answer(email):
        response = api_client.post(url, {"email": email, "role": "viewer"}, format="json")
        body = response.json()
        return response.status_code, sorted(body), body["email"], body["role"], body["source"], body["in_force"]

    known, unknown = api_answer("KNOWN@example.com"), api_answer("new-person@example.com")
    assert known[0] == unknown[0] == 201
    assert known[1] == unknown[1]
    assert known[3:] == unknown[3:]


def test_adding_the_same_address_again_changes_the_role_and_resends_the_link(
    client, partner_world, django_capture_on_commit_callbacks
):
    client.force_login(partner_world["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        add_member(client, partner_world["shop"], email="emil@example.com", role="viewer")
        add_member(client, partner_world["shop"], email="emil@example.com", role="admin")
    grant = ProjectRoleGrant.objects.get(user__email="emil@example.com")
    assert grant.role == "admin"
    assert len(mail.outbox) == 2 and all("/accounts/password/choose/" in m.body for m in mail.outbox)
    actions = list(
        AuditEvent.objects.filter(target_type="projects.projectrolegrant")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["project.role_granted", "project.role_changed"]


def test_concurrent_style_double_creation_leaves_one_account(partner_world):
    staff = partner_world["staff"]
    project_member_add(project=partner_world["shop"], email="twice@example.com", role="viewer", actor=staff)
    project_member_add(project=partner_world["intranet"], email="Twice@Example.com", role="viewer", actor=staff)
    assert User.objects.filter(email__iexact="twice@example.com").count() == 1
    assert ProjectRoleGrant.objects.filter(user__email="twice@example.com").count() == 2


def test_an_end_date_ends_the_role_when_that_day_ends(client, partner_world):
    client.force_login(partner_world["staff"])
    until = timezone.localdate() + timedelta(days=10)
    add_member(client, partner_world["shop"], email="temp@example.com", valid_until=until.isoformat())
    grant = ProjectRoleGrant.objects.get(user__email="temp@example.com")
    assert timezone.localtime(grant.expires_at) == timezone.make_aware(
        datetime.combine(until + timedelta(days=1), time.min)
    )


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field is required."),
        ({"email": "a@example.com", "role": "owner"}, "role", "Select a valid choice."),
        ({"email": "a@example.com", "valid_until": "2001-01-01"}, "expires_at", "The end date must lie in the future."),
        ({"email": "a@example.com", "valid_until": "tomorrow"}, "valid_until", "Enter a valid date."),
    ],
)
def test_bad_input_on_the_members_page_is_a_clear_form_error(client, partner_world, data, field, message):
    client.force_login(partner_world["staff"])
    response = add_member(client, partner_world["shop"], **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ProjectRoleGrant.objects.exists()
    assert not User.objects.filter(email="a@example.com").exists()


def test_changing_and_revoking_a_role_on_the_members_page(client, partner_world):
    staff, shop = partner_world["staff"], partner_world["shop"]
    enduser = factories.UserFactory()
    grant = factories.grant(shop, enduser, ProjectRole.VIEWER)
    client.force_login(staff)
    until = timezone.localdate() + timedelta(days=3)
    url = reverse("project-member-change", kwargs={"number": shop.number, "grant_id": grant.pk})
    assert client.get(url).status_code == 200
    response = client.post(url, {"role": "developer", "valid_until": until.isoformat()})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.role == "developer" and grant.expires_at is not None

    response = client.post(reverse("project-member-remove", kwargs={"number": shop.number, "grant_id": grant.pk}))
    assert response.status_code == 302
    assert not ProjectRoleGrant.objects.filter(pk=grant.pk).exists()
    client.force_login(enduser)
    assert client.get(reverse("project-detail", kwargs={"number": shop.number})).status_code == 404


def test_delegation_roles_are_shown_but_managed_through_the_delegation(client, api_client, partner_world):
    staff, shop = partner_world["staff"], partner_world["shop"]
    agency = factories.OrganizationFactory(name="Agency KG")
    grant = project_grant_role(project=shop, organization=agency, role="external", source="delegation")
    client.force_login(staff)
    page = client.get(reverse("project-members", kwargs={"number": shop.number})).content.decode()
    assert "Agency KG" in page and "Managed through the delegation" in page
    response = client.post(
        reverse("project-member-remove", kwargs={"number": shop.number, "grant_id": grant.pk}), follow=True
    )
    assert "This role comes from a caretaker delegation" in messages_of(response)[0]
    assert ProjectRoleGrant.objects.filter(pk=grant.pk).exists()

    api_client.force_login(staff)
    url = reverse("api-project-grant-detail", kwargs={"project_number": shop.number, "grant_id": grant.pk})
    assert api_client.patch(url, {"role": "admin"}, format="json").status_code == 409
    assert api_client.delete(url).status_code == 409
    grant.refresh_from_db()
    assert grant.role == "external"


# --- end-customer users see exactly their projects --------------------------------------------


@pytest.fixture
def enduser(partner_world):
    user = factories.UserFactory(email="enduser@example.com")
    project_member_add(project=partner_world["shop"], email=user.email, role="viewer", actor=partner_world["staff"])
    return user


def test_end_customers_see_exactly_their_project_in_lists_search_and_counts(client, partner_world, enduser):
    client.force_login(enduser)
    shop = partner_world["shop"]
    response = client.get(reverse("project-list"))
    assert [p.number for p in response.context["object_list"]] == [shop.number]
    assert response.context["paginator"].count == 1
    assert "1 project" in response.content.decode()
    assert "Schmidt intranet" not in response.content.decode()
    # search: other projects of the same org never match
    for term in ("intranet", partner_world["intranet"].number, "Customer", "shop", shop.number.upper()):
        found = [p.number for p in client.get(reverse("project-list"), {"q": term}).context["object_list"]]
        assert found == ([shop.number] if term in ("shop", shop.number.upper()) else []), term
    # the organization filter offers only the partner org, for the one project
    assert [o.public_id for o in response.context["organization_choices"]] == [partner_world["partner"].public_id]
    filtered = client.get(reverse("project-list"), {"organization": partner_world["partner"].public_id})
    assert [p.number for p in filtered.context["object_list"]] == [shop.number]


def test_end_customers_get_exactly_their_project_from_the_api(api_client, partner_world, enduser):
    api_client.force_login(enduser)
    shop, intranet = partner_world["shop"], partner_world["intranet"]
    body = api_client.get(reverse("api-project-list")).json()
    assert body["count"] == 1 and [row["number"] for row in body["results"]] == [shop.number]
    assert body["results"][0]["role"] == "viewer"
    assert api_client.get(reverse("api-project-list"), {"search": "intranet"}).json()["count"] == 0
    assert (
        api_client.get(reverse("api-project-list"), {"organization": partner_world["partner"].public_id}).json()[
            "count"
        ]
        == 1
    )
    assert api_client.get(reverse("api-project-detail", kwargs={"number": intranet.number})).status_code == 404
    assert api_client.get(reverse("api-project-detail", kwargs={"number": shop.number})).json()["allowed_actions"] == [
        "view"
    ]
    # a Viewer may not read the role grants of the project (manage members): 403, not the list
    grants = api_client.get(reverse("api-project-grant-list", kwargs={"project_number": shop.number}))
    assert grants.status_code == 403
    grants = api_client.get(reverse("api-project-grant-list", kwargs={"project_number": intranet.number}))
    assert grants.status_code == 404


def test_end_customers_have_no_org_wide_rights(client, api_client, partner_world, enduser):
    client.force_login(enduser)
    partner = partner_world["partner"]
    assert client.get(reverse("organization-dashboard", kwargs={"org": partner.public_id})).status_code == 404
    assert client.get(reverse("organization-projects", kwargs={"org": partner.public_id})).status_code == 404
    assert client.get(reverse("project-create", kwargs={"org": partner.public_id})).status_code == 404
    assert b"Partner GmbH" not in client.get(reverse("organization-switcher"), {"q": "Partner"}).content
    api_client.force_login(enduser)
    response = api_client.post(
        reverse("api-organization-project-list", kwargs={"org": partner.public_id}), {"name": "Sneaky"}, format="json"
    )
    assert response.status_code == 404


def test_end_customers_are_notified_of_their_project_only(partner_world, enduser):
    texts = [n.text for n in Notification.objects.filter(recipient=enduser)]
    assert len(texts) == 1 and partner_world["shop"].number in texts[0]
    assert (
        not Notification.objects.exclude(recipient=enduser).filter(params__number=partner_world["shop"].number).exists()
    )


def test_an_end_customers_role_with_an_end_date_disappears_at_that_instant(client, api_client, partner_world):
    end = timezone.now() + timedelta(days=2)
    user = factories.UserFactory()
    project_member_add(
        project=partner_world["intranet"],
        email=user.email,
        role="developer",
        expires_at=end,
        actor=partner_world["staff"],
    )
    api_client.force_login(user)
    with time_machine.travel(end - timedelta(seconds=1), tick=False):
        assert api_client.get(reverse("api-project-list")).json()["count"] == 1
    with time_machine.travel(end, tick=False):
        assert api_client.get(reverse("api-project-list")).json()["count"] == 0
        assert (
            api_client.get(
                reverse("api-project-detail", kwargs={"number": partner_world["intranet"].number})
            ).status_code
            == 404
        )


def test_the_home_page_takes_end_customers_to_their_projects(client, enduser):
    client.force_login(enduser)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("project-list")


def test_partner_staff_with_manage_rights_on_customer_projects_can_add_people_there_too(client, partner_world):
    client.force_login(partner_world["staff"])
    add_member(client, partner_world["customer_web"], email="someone@example.com", role="viewer")
    assert ProjectRoleGrant.objects.filter(
        project=partner_world["customer_web"], user__email="someone@example.com"
    ).exists()
    event = AuditEvent.objects.get(action="project.role_granted")
    assert event.organization == partner_world["customer"]
    assert event.acting_organization == partner_world["partner"]
