"""Data for the fault tests, made inside a Django process of the test's own stack.

`python -m tests.faults.scenario <function> '<json kwargs>'` prints the function's result as JSON
on its last line (see `harness.Stack.script`).
"""

from __future__ import annotations

import json
import sys


def offers_world(*, webhook_url: str | None = None) -> dict:
    """A partner with a linked customer (one Owner, English), a template, and an API token each."""
    from rest_framework.authtoken.models import Token

    from offers.models import WebhookEndpoint
    from offers.tests import factories as of
    from organizations.roles import OrgRole
    from tests import factories

    partner = factories.PartnerFactory(name="Fault Partner GmbH")
    customer = factories.OrganizationFactory(name="Fault Kunde AG")
    factories.link(partner, customer)
    partner_owner = factories.member(partner, OrgRole.OWNER)
    customer_owner = factories.member(customer, OrgRole.OWNER, email="fault-customer-owner@example.com")
    template = of.template(partner, products=[of.product(list_price="10.00")], actor=partner_owner)
    if webhook_url:
        WebhookEndpoint.objects.create(organization=customer, url=webhook_url, secret="fault-secret-0123456789")
    return {
        "partner": partner.public_id,
        "customer": customer.public_id,
        "template": template.pk,
        "partner_token": Token.objects.create(user=partner_owner).key,
        "partner_owner": partner_owner.email,
        "customer_owner": customer_owner.email,
    }


def send_offers(*, partner: str, customer: str, template: int, count: int, start: int = 0, **_ignored) -> dict:
    """`count` offers through the service, each committed on its own (as separate requests would)."""
    from offers import services
    from offers.tests import factories as of
    from organizations.models import Organization

    partner_org = Organization.objects.get(public_id=partner)
    actor = of.owner_of(partner_org)
    context = of.context(actor, partner_org)
    ids = []
    for number in range(start, start + count):
        offer = services.offer_send(
            context=context,
            template=template,
            customer=customer,
            message=f"fault-offer-{number}",
            actor=actor,
            allow_duplicate=True,  # many offers of one template on purpose
        )
        ids.append(offer.pk)
    return {"offers": ids}


def main() -> None:
    import django

    django.setup()
    function, kwargs = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    result = {"offers_world": offers_world, "send_offers": send_offers}[function](**kwargs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
