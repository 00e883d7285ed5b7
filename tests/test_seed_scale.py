import pytest
from django.core.management import call_command

from organizations.models import CustomerRelation, Organization
from portal.tenancy import organizations_for_user
from projects.models import Project, ProjectRoleGrant
from projects.selectors import project_list_for_user

pytestmark = pytest.mark.django_db


def test_seed_scale_small_and_idempotent():
    arguments = ["--customers", "30", "--projects", "90", "--users", "20", "--grants", "200", "--force"]
    call_command("seed_scale", *arguments)
    call_command("seed_scale", *arguments)
    partner = Organization.objects.get(name="Scale Partner GmbH")
    assert CustomerRelation.objects.filter(partner=partner, status="active").count() == 30
    assert Project.objects.filter(name__startswith="Scale Project ").count() == 90
    assert not Project.objects.filter(number__isnull=True).exists()
    assert ProjectRoleGrant.objects.filter(user__isnull=False).count() == 200
    owner = partner.memberships.get(role="owner").user
    assert organizations_for_user(owner).count() == 31
    assert project_list_for_user(user=owner).count() == 90
