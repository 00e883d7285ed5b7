"""Issue 14.6: schemathesis over the whole OpenAPI schema: no server error, every answer as documented.

Two runs, each bounded to well under 3 minutes:

- the embedded default: SQLite file database, tasks in process, the development settings with the
  demo data, served by gunicorn with two worker processes and fuzzed by two concurrent
  schemathesis workers (the `schemathesis` CLI in a subprocess, against the live server);
- PostgreSQL: the test database, in process through WSGI (`from_wsgi`, loaded at module level).

Both authenticate as a partner owner and put that partner's identifier into every `{org}` (and a
project of it into `{project_number}`), so the generated requests reach the handlers instead of
stopping at "unknown organization". Checks: `not_a_server_error` and
`response_schema_conformance`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from organizations.roles import OrgRole
from portal.wsgi import application
from tests import factories
from tests.harness import AppServer

pytestmark = pytest.mark.fuzz

CHECKS = [not_a_server_error, response_schema_conformance]
# Examples per operation: bounds the run time (about 100 operations).
EXAMPLES_SQLITE = int(os.environ.get("FUZZ_EXAMPLES_SQLITE", "5"))
EXAMPLES_POSTGRES = int(os.environ.get("FUZZ_EXAMPLES_POSTGRES", "5"))
SEED = os.environ.get("FUZZ_SEED", "14")

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def _keep_the_test_connection():
    """What Django's test client does: requests through WSGI must not close the test's transaction.

    `close_old_connections` runs on every request start and end and closes a connection that is
    inside a transaction, which the test's own transaction always is.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def partner_owner(db, _keep_the_test_connection):
    partner = factories.PartnerFactory(name="Fuzz Partner GmbH")
    customer = factories.OrganizationFactory(name="Fuzz Kunde AG")
    factories.link(partner, customer)
    owner = factories.member(partner, OrgRole.OWNER)
    project = factories.project(partner, name="Fuzz project")
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=owner)
    return {"org": partner.public_id, "project_number": project.number, "token": token.key}


@schema.parametrize()
# Generated cases only: schemathesis' "coverage" phase (Hypothesis' explicit examples) would add about a
# hundred systematic cases per operation, minutes in all.
@settings(
    max_examples=EXAMPLES_POSTGRES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    phases=[Phase.generate],
)
def test_14_6_schemathesis_on_postgresql(case, partner_owner):
    for name in ("org", "project_number"):
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = partner_owner[name]
    case.call_and_validate(headers={"Authorization": f"Token {partner_owner['token']}"}, checks=CHECKS)


def test_14_6_schemathesis_on_the_embedded_sqlite_default_with_two_workers(tmp_path):
    server = AppServer(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", workdir=tmp_path, workers=2)
    server.prepare()
    token = server.token("partner@demo.example")
    org = (
        server.manage(
            "shell",
            "-c",
            "from organizations.models import Organization as O; "
            "print(O.objects.get(name='Demo Partner GmbH').public_id)",
        )
        .strip()
        .splitlines()[-1]
    )
    project = (
        server.manage(
            "shell",
            "-c",
            "from projects.models import Project as P; "
            "print(P.objects.filter(organization__name='Demo Partner GmbH').order_by('id').first().number)",
        )
        .strip()
        .splitlines()[-1]
    )
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"path.org" = "{org}"\n"path.project_number" = "{project}"\n')
    server.start()
    try:
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "--no-color",
                "--config-file",
                str(config),
                "run",
                f"{server.url}/api/schema/",
                "--header",
                f"Authorization: Token {token}",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--phases",
                "fuzzing",
                "--max-examples",
                str(EXAMPLES_SQLITE),
                "--workers",
                "2",
                "--seed",
                SEED,
                "--request-timeout",
                "30",
                "--warnings",
                "off",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
    finally:
        server.stop()
    log = server.log.read_text()
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:] + log[-5000:]
    assert "database is locked" not in log, log[-5000:]
