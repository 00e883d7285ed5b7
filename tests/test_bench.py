"""Issue 13, `make bench` (scripts/bench.py): it walks every GET page and API route and finds an
account and an object for each on seed_scale's data, and the query-counting WSGI entry reports
each request's queries. A smoke test with no timing: the benchmark itself is not part of the suite.
"""

import io
import os
from wsgiref.util import setup_testing_defaults

import pytest
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections

from scripts import bench

pytestmark = pytest.mark.django_db


@pytest.fixture
def scale_data():
    sizes = ["--customers", "3", "--projects", "12", "--users", "9", "--grants", "20"]
    call_command("seed_scale", *sizes, "--force", stdout=io.StringIO())


def test_issue13_bench_measures_every_get_route_as_a_seeded_account(scale_data):
    cases, skipped = bench.build_cases()
    assert skipped == []
    routes = {name for name, _kind, _kwargs in bench.get_routes()}
    assert {case.route for case in cases} == routes
    assert bench.BASELINE in routes
    # The access paths of the issue are measured separately.
    assert {c.account for c in cases if c.route == "api-project-list"} >= {"partner-owner", "heavy", "single"}
    assert all(case.account in bench.World.accounts() for case in cases)
    # Every dashboard panel on its own; the customer table sorted, filtered and deep.
    panels = {c.variant for c in cases if c.route == "organization-dashboard-panel" and c.account == "partner-owner"}
    assert {":customers", ":offers_awaiting", ":trials"} <= panels
    variants = {c.variant for c in cases if c.route == "customer-list"}
    assert {"", "?sort=city", "?q=Customer+00042"} <= variants


def test_issue13_bench_wsgi_entry_reports_the_query_count(monkeypatch, scale_data):
    monkeypatch.setenv("PORTAL_BENCH", "1")
    from portal.bench import QUERIES_HEADER, application

    # As django.test.Client does: the request must not close the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    try:
        environ = {"PATH_INFO": "/healthz", "HTTP_HOST": "localhost"}
        setup_testing_defaults(environ)
        seen = {}

        def start_response(status, headers, exc_info=None):
            seen.update(status=status, headers=dict(headers))

        b"".join(application(environ, start_response))
    finally:
        signals.request_started.connect(close_old_connections)
    assert seen["status"].startswith("200")
    assert int(seen["headers"][QUERIES_HEADER]) >= 1


def test_issue13_bench_wsgi_entry_refuses_to_load_outside_the_benchmark(monkeypatch):
    import importlib
    import sys

    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.delenv("PORTAL_BENCH", raising=False)
    monkeypatch.delitem(sys.modules, "portal.bench", raising=False)
    with pytest.raises(ImproperlyConfigured):
        importlib.import_module("portal.bench")
    assert os.environ.get("PORTAL_BENCH") is None


@pytest.mark.parametrize("requests", [200, 50, 7])
def test_issue13_bench_reads_both_p95_off_as_many_bare_requests_as_route_requests(monkeypatch, requests):
    """The route and the bare page alternate in blocks; the bare page gets as many requests as the
    route, so neither p95 rests on fewer samples than the other."""
    calls = []

    def fake_fetch(base_url, path, kind, session_key):
        calls.append(path)
        return (0.01 if path == "/route/" else 0.005), 200, 3

    monkeypatch.setattr(bench, "fetch", fake_fetch)
    monkeypatch.setattr(bench, "REQUESTS", requests)
    case = bench.Case("route", "page", "partner-owner", "/route/")
    baseline = bench.Case(bench.BASELINE, "page", "partner-owner", "/bare/")
    bench.measure(case, baseline, "http://testserver", {"partner-owner": "key"})
    assert len(case.samples) == requests
    assert len(case.base) >= requests
    assert case.p(case.samples, 0.95) / case.p(case.base, 0.95) == pytest.approx(2.0)
    # blocks: never more than one block of the route before the bare page's next block
    assert calls[4 : 4 + min(requests, 20)] == ["/route/"] * min(requests, 20)  # after the warm-up's 4
