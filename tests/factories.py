"""factory-boy factories shared by every app's tests."""

import factory
from django.utils import timezone

from organizations.models import CustomerRelation, Membership, Organization, StaffAssignment, User
from organizations.roles import OrgKind, OrgRole
from organizations.services.members import membership_set
from organizations.services.profile import organization_create
from projects.models import Project
from projects.services import project_create, project_grant_role

PASSWORD = "test-password-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    language = "en"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class OrganizationFactory(factory.django.DjangoModelFactory):
    """Goes through `organization_create`, so every org has its members group."""

    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n} GmbH")
    kind = OrgKind.CUSTOMER
    country = "DE"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return organization_create(**kwargs)


class PartnerFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"Partner {n} GmbH")
    kind = OrgKind.PARTNER


def member(organization: Organization, role: str = OrgRole.OWNER, **user_fields) -> User:
    """A new user holding `role` in `organization`."""
    user = UserFactory(**user_fields)
    membership_set(organization=organization, user=user, role=role)
    return user


def link(partner: Organization, customer: Organization) -> CustomerRelation:
    """An active customer relation partner → customer."""
    return CustomerRelation.objects.create(
        partner=partner, customer=customer, status=CustomerRelation.Status.ACTIVE, activated_at=timezone.now()
    )


def linked_customers(partner: Organization, count: int, name: str = "Bulk Kunde {:05d}") -> list[Organization]:
    """`count` customer orgs linked to `partner`, in two bulk inserts (scale and paging tests).
    `name` is formatted with a running number that continues over earlier calls with the same prefix."""
    prefix = name.split("{", 1)[0]
    start = Organization.objects.filter(name__startswith=prefix).count() if prefix else 0
    customers = Organization.objects.bulk_create(
        [Organization(name=name.format(start + n), kind=OrgKind.CUSTOMER, country="DE") for n in range(count)],
        batch_size=2000,
    )
    now = timezone.now()
    CustomerRelation.objects.bulk_create(
        [
            CustomerRelation(partner=partner, customer=c, status=CustomerRelation.Status.ACTIVE, activated_at=now)
            for c in customers
        ],
        batch_size=2000,
    )
    return customers


def assign(user: User, partner: Organization, customer: Organization) -> StaffAssignment:
    membership = Membership.objects.get(user=user, organization=partner)
    return StaffAssignment.objects.create(membership=membership, customer=customer)


def project(organization: Organization, name: str = "Project") -> Project:
    return project_create(organization=organization, name=name)


def grant(project_: Project, user: User, role: str, expires_at=None):
    return project_grant_role(project=project_, user=user, role=role, expires_at=expires_at)
