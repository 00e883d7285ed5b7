"""The one shared test world (issue 12): every kind of account the portal knows, built with the
factories of `tests/factories.py`, used by the isolation table and by the apps' tests.

Organizations (built at once):

- `partner` ("Partner GmbH") – a reseller, with a linked customer `customer` ("Kunde AG");
- `direct` ("Direkt GmbH") – a customer without reseller;
- `agency` ("Agentur GmbH") – a caretaker org with an *active* delegation (a release accepted) of
  the customer's project `delegated_project` ("Kundenportal"); the customer's other project
  `project` ("Webshop") is not delegated;
- `other_agency` ("Andere Agentur GmbH") – a caretaker org without any delegation;
- `foreign_partner` ("Fremdpartner GmbH") with its own linked customer `foreign_customer`:
  another tenant, whose objects must never show up anywhere else.

People are created on first use (`world.customer_owner`, …), so a test pays only for the accounts
it touches; `ACCOUNTS` says who each one is. The isolation table's columns are `TABLE_ACCOUNTS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from organizations.models import Organization, User
from organizations.roles import OrgRole
from projects.models import Project
from tests import factories

# name -> (org attribute, role, how): "assigned" = a partner Member assigned to `customer` (ORG-11)
ACCOUNTS: dict[str, tuple[str, str, str]] = {
    "customer_owner": ("customer", OrgRole.OWNER, ""),
    "customer_admin": ("customer", OrgRole.ADMIN, ""),
    "customer_member": ("customer", OrgRole.MEMBER, ""),
    "customer_guest": ("customer", OrgRole.GUEST, ""),
    "partner_owner": ("partner", OrgRole.OWNER, ""),
    "partner_admin": ("partner", OrgRole.ADMIN, ""),
    "partner_member": ("partner", OrgRole.MEMBER, ""),  # not assigned to the customer
    "partner_guest": ("partner", OrgRole.GUEST, ""),
    "partner_member_assigned": ("partner", OrgRole.MEMBER, "assigned"),
    "partner_guest_assigned": ("partner", OrgRole.GUEST, "assigned"),
    "direct_owner": ("direct", OrgRole.OWNER, ""),
    "direct_member": ("direct", OrgRole.MEMBER, ""),
    "agency_owner": ("agency", OrgRole.OWNER, ""),  # the caretaker with a release
    "agency_admin": ("agency", OrgRole.ADMIN, ""),
    "agency_member": ("agency", OrgRole.MEMBER, ""),
    "other_agency_owner": ("other_agency", OrgRole.OWNER, ""),  # a caretaker without a release
    "foreign_owner": ("foreign_partner", OrgRole.OWNER, ""),
    "foreign_customer_owner": ("foreign_customer", OrgRole.OWNER, ""),
}

# The people most tests make at once (`build_world(accounts=...)`), in this order.
PARTNER_PEOPLE = ("partner_owner", "partner_admin", "partner_member")
CUSTOMER_PEOPLE = ("customer_owner", "customer_admin", "customer_member", "customer_guest")

# The columns of tests/isolation_expected.txt, in order ("anonymous" is no account at all).
TABLE_ACCOUNTS = (
    "anonymous",
    "customer_owner",
    "customer_admin",
    "customer_member",
    "customer_guest",
    "partner_owner",
    "partner_admin",
    "partner_member_assigned",
    "partner_member",
    "foreign_owner",
    "agency_owner",
    "other_agency_owner",
    "support",
)


@dataclass
class World:
    partner: Organization
    customer: Organization
    direct: Organization
    agency: Organization
    other_agency: Organization
    foreign_partner: Organization
    foreign_customer: Organization
    project: Project | None  # the customer's project "Webshop", not delegated
    delegated_project: Project | None  # the customer's project "Kundenportal", released to `agency`
    languages: dict = field(default_factory=dict)
    _people: dict = field(default_factory=dict, repr=False)

    def __getattr__(self, name: str) -> User:
        # Only called for names that are not fields: the accounts, made on first use.
        if name.startswith("_") or (name not in ACCOUNTS and name != "support"):
            raise AttributeError(name)
        people = self.__dict__["_people"]
        if name not in people:
            people[name] = self._make(name)
        return people[name]

    def __getitem__(self, name: str):
        """`world["partner"]`, `world["customer_owner"]`: for tests that index by name."""
        return getattr(self, name)

    def account(self, name: str) -> User | None:
        """The user of a table column (None for "anonymous")."""
        return None if name == "anonymous" else getattr(self, name)

    def _make(self, name: str) -> User:
        fields = {"language": self.languages[name]} if name in self.languages else {}
        if name == "support":
            from organizations.support import support_group_sync

            user = factories.UserFactory(is_staff=True, **fields)
            user.groups.add(support_group_sync())
            return user
        org_attr, role, how = ACCOUNTS[name]
        organization = getattr(self, org_attr)
        user = factories.member(organization, role, **fields)
        if how == "assigned":
            factories.assign(user, self.partner, self.customer)
        return user


def build_world(
    *,
    languages: dict | None = None,
    accounts: tuple = (),
    caretaker: bool = True,
    projects: bool | None = None,
    linked: bool = True,
) -> World:
    """The world; `languages` sets the language of some accounts (e.g. {"customer_owner": "de"});
    `accounts` are created at once, in this order (for tests that count an org's members).

    `caretaker=False` leaves out the agency's release, with its audit events, notifications and
    emails, and by default the customer's projects too (`project`, `delegated_project` are then
    None): for tests that count what their own actions left behind. `projects=True` keeps the two
    projects without the release (for tests that release or request one themselves).

    `linked=False` leaves the customer without its partner (a customer of no reseller, as the
    delegation tests start)."""
    from delegations.tests import factories as delegation_factories

    if projects is None:
        projects = caretaker
    if caretaker and not projects:
        raise ValueError("the agency's release needs the customer's projects")
    languages = dict(languages or {})
    partner = factories.PartnerFactory(name="Partner GmbH")
    customer = factories.OrganizationFactory(name="Kunde AG")
    if linked:
        factories.link(partner, customer)
    foreign_partner = factories.PartnerFactory(name="Fremdpartner GmbH")
    foreign_customer = factories.OrganizationFactory(name="Fremdkunde AG")
    factories.link(foreign_partner, foreign_customer)
    agency = factories.OrganizationFactory(name="Agentur GmbH")
    project = factories.project(customer, "Webshop") if projects else None
    delegated_project = factories.project(customer, "Kundenportal") if projects else None
    world = World(
        partner=partner,
        customer=customer,
        direct=factories.OrganizationFactory(name="Direkt GmbH"),
        agency=agency,
        other_agency=factories.OrganizationFactory(name="Andere Agentur GmbH"),
        foreign_partner=foreign_partner,
        foreign_customer=foreign_customer,
        project=project,
        delegated_project=delegated_project,
        languages=languages,
    )
    if caretaker:
        # DLG-2: the customer's Owner released the project to the agency, whose Owner accepted
        # (both are the orgs' first managers, which the delegation factories pick).
        world.customer_owner  # noqa: B018 - created first: the releasing Owner
        world.agency_owner  # noqa: B018 - created first: the accepting Owner
        delegation_factories.active(delegated_project, agency, via="release")
    for name in accounts:
        getattr(world, name)
    return world
