"""seed_demo: templates for Demo Partner GmbH; for Demo Kunde AG one offer waiting for
confirmation, one accepted, one declined – and running it again adds nothing."""

import pytest

from offers.models import Offer, OfferTemplate, Product
from portal.management.commands.seed_demo import seed_all

pytestmark = pytest.mark.django_db


def test_demo_offers():
    seed_all()
    counts = (Product.objects.count(), OfferTemplate.objects.count(), Offer.objects.count())
    seed_all()
    assert counts == (Product.objects.count(), OfferTemplate.objects.count(), Offer.objects.count())
    assert sorted(OfferTemplate.objects.filter(partner__name="Demo Partner GmbH").values_list("name", flat=True)) == [
        "Schulungspaket",
        "Starter-Paket",
    ]
    statuses = sorted(Offer.objects.filter(customer__name="Demo Kunde AG").values_list("status", flat=True))
    assert statuses == ["accepted", "declined", "waiting_for_confirmation"]
    accepted = Offer.objects.get(status="accepted")
    assert accepted.licenses_provisioned_at is not None
