"""Fixtures of the fault tests (marker `faults`): each module gets its own servers (`stack`)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.harness import Stack, migrated_cluster

from .report import fault_report  # noqa: F401 - also here should the root conftest not load the plugin

# Race tests that live with their app and belong to the fault suite as well: `-m faults` selects
# them without running them twice (their fixtures are the app's). Checked by test_referenced_races.
REFERENCED = [
    "offers/tests/test_races.py::test_accept_racing_cancel_has_one_winner",
    "offers/tests/test_races.py::test_double_accept_provisions_once",
    "delegations/tests/test_races.py::test_accepting_a_request_races_the_caretaker_revoking_it",
    "delegations/tests/test_races.py::test_accepting_a_release_races_the_customer_revoking_it",
    "organizations/tests/test_member_races.py::test_two_owners_cannot_leave_the_org_without_owner",
    "organizations/tests/test_member_races.py::test_accept_against_revoke",
    "invoices/tests/test_invoice_races.py::test_two_concurrent_runs_over_the_same_recipients_issue_once_and_gapless",
]


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.split("[", 1)[0] in REFERENCED:
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def migrated_pgdata():
    """Migrated once per test process; each module's PostgreSQL starts from a copy."""
    workdir = Path(tempfile.mkdtemp(prefix="portal-faults-template-"))
    try:
        yield migrated_cluster(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(migrated_pgdata):
    """PostgreSQL and Redis of this module alone (migrated); processes are started by the tests."""
    workdir = Path(tempfile.mkdtemp(prefix="portal-faults-"))
    built = Stack(workdir, template=migrated_pgdata)
    try:
        yield built
    finally:
        built.close()
