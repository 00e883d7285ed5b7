"""Fixtures of the delegation tests: the shared world's customer, its project and the agency."""

from __future__ import annotations

import pytest

from tests.world import World, build_world


@pytest.fixture
def world(db) -> World:
    """The shared world (tests/world.py): the customer "Kunde AG" with its undelegated project
    "Webshop" and the agency "Agentur GmbH" as caretaker."""
    return build_world(
        languages={"customer_owner": "de", "customer_admin": "en", "agency_owner": "en", "agency_admin": "de"},
        accounts=("customer_admin", "customer_member", "agency_admin", "agency_member"),
    )
