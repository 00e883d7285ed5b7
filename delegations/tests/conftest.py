"""Fixtures of the delegation tests: the shared world with the customer's project and an agency
as caretaker-to-be (no release yet, and the customer has no reseller)."""

from __future__ import annotations

import pytest

from tests.world import World, build_world


@pytest.fixture
def world(db) -> World:
    """`world.project` ("Webshop") is the customer's project the tests release or request."""
    return build_world(
        caretaker=False,
        projects=True,
        linked=False,
        languages={"customer_owner": "de", "customer_admin": "en", "agency_owner": "en", "agency_admin": "de"},
        accounts=(
            "customer_owner",
            "customer_admin",
            "customer_member",
            "agency_owner",
            "agency_admin",
            "agency_member",
        ),
    )
