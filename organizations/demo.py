"""Demo organizations and accounts (see portal/management/commands/seed_demo.py)."""

from django.utils import timezone

from portal.tenancy import org_context_for_organization

from .models import CustomerRelation, Organization, User
from .roles import OrgKind, OrgRole
from .services.invitations import invitation_create
from .services.members import membership_set
from .services.profile import organization_create
from .services.relations import connection_request, relation_connect
from .support import support_group_sync

ORGS = {
    "partner": dict(
        name="Demo Partner GmbH",
        kind=OrgKind.PARTNER,
        street="Partnerweg 1",
        postcode="10115",
        city="Berlin",
        country="DE",
        vat_id="DE136695976",
        support_name="Partner Support",
        support_email="support@partner.demo.example",
        support_phone="+49 30 1234567",
        support_hours="Mo–Fr 9–17",
    ),
    "customer": dict(
        name="Demo Kunde AG",
        kind=OrgKind.CUSTOMER,
        street="Kundenstraße 5",
        postcode="80331",
        city="München",
        country="DE",
    ),
    "agency": dict(
        name="Demo Agentur",
        kind=OrgKind.CUSTOMER,
        street="Agenturplatz 3",
        postcode="20095",
        city="Hamburg",
        country="DE",
    ),
    "direct": dict(
        name="Direkt GmbH", kind=OrgKind.CUSTOMER, street="Direktallee 9", postcode="50667", city="Köln", country="DE"
    ),
}

ACCOUNTS = [
    # key, email, first, last, language, org key, role
    ("partner", "partner@demo.example", "Paula", "Partner", "de", "partner", OrgRole.OWNER),
    ("customer", "customer@demo.example", "Karl", "Kunde", "de", "customer", OrgRole.OWNER),
    ("guest", "guest@demo.example", "Gina", "Gast", "en", "customer", OrgRole.GUEST),
    ("caretaker", "caretaker@demo.example", "Carla", "Caretaker", "de", "agency", OrgRole.OWNER),
    ("direct", "direct@demo.example", "Dieter", "Direkt", "de", "direct", OrgRole.OWNER),
    ("enduser", "enduser@demo.example", "Emil", "Endkunde", "en", None, None),
]


def _user(demo, email, first_name, last_name, language, **extra):
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(
            email, demo["password"], first_name=first_name, last_name=last_name, language=language, **extra
        )
    return user


def seed(demo: dict) -> None:
    orgs = demo.setdefault("orgs", {})
    for key, fields in ORGS.items():
        org = Organization.objects.filter(name=fields["name"]).first()
        orgs[key] = org or organization_create(**fields)
    users = demo.setdefault("users", {})
    for key, email, first, last, language, org_key, role in ACCOUNTS:
        users[key] = _user(demo, email, first, last, language)
        if org_key:
            membership_set(organization=orgs[org_key], user=users[key], role=role)

    support_group = support_group_sync()  # exactly the support permissions (ORG-9)
    support = _user(demo, "support@demo.example", "Sam", "Support", "en", is_staff=True)
    support.groups.add(support_group)
    users["support"] = support

    if not CustomerRelation.objects.filter(customer=orgs["customer"], status=CustomerRelation.Status.ACTIVE).exists():
        CustomerRelation.objects.create(
            partner=orgs["partner"],
            customer=orgs["customer"],
            status=CustomerRelation.Status.ACTIVE,
            requested_by=users["partner"],
            activated_at=timezone.now(),
        )

    # ORG-4: a second customer for the customer list and the switcher; ORG-3: an open request
    # of the partner (its Open requests page) to an org without a reseller.
    partner_context = org_context_for_organization(users["partner"], orgs["partner"])
    shop = Organization.objects.filter(name=SECOND_CUSTOMER["name"]).first() or organization_create(**SECOND_CUSTOMER)
    orgs["shop"] = shop
    if not CustomerRelation.objects.filter(customer=shop, status=CustomerRelation.Status.ACTIVE).exists():
        relation_connect(partner=orgs["partner"], customer=shop, actor=users["support"])
    prospect = Organization.objects.filter(name=PROSPECT["name"]).first() or organization_create(**PROSPECT)
    orgs["prospect"] = prospect
    if not CustomerRelation.objects.filter(customer=prospect).exists():
        connection_request(
            context=partner_context,
            actor=users["partner"],
            identifier=prospect.public_id,
            message="Wir würden Sie gern als Partner betreuen.",
        )
    seed_invitations(demo)


def seed_invitations(demo: dict) -> None:
    """ORG-5: a pending invitation in Demo Kunde AG (its Invitations page), sent by its Owner."""
    from .models import Invitation

    customer = demo["orgs"]["customer"]
    if not Invitation.objects.filter(organization=customer, email=DEMO_INVITEE["email"]).exists():
        invitation_create(organization=customer, actor=demo["users"]["customer"], **DEMO_INVITEE)


DEMO_INVITEE = dict(
    email="new.colleague@demo.example", role=OrgRole.MEMBER, first_name="Nele", last_name="Neu", language="de"
)


SECOND_CUSTOMER = dict(
    name="Muster Handel GmbH",
    kind=OrgKind.CUSTOMER,
    street="Marktplatz 2",
    postcode="04109",
    city="Leipzig",
    country="DE",
    vat_id="DE811907980",
)
PROSPECT = dict(
    name="Neukunde KG", kind=OrgKind.CUSTOMER, street="Hafenstraße 7", postcode="28195", city="Bremen", country="DE"
)
