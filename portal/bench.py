"""WSGI entry point for `make bench` only (scripts/bench.py): the production application, plus a
response header `X-Bench-Queries` with the number of SQL queries the request ran.

Settings stay exactly the production ones; the count comes from a database execute wrapper
around each request. It refuses to load unless PORTAL_BENCH=1, so it cannot end up serving users
by accident.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.db import connections

if os.environ.get("PORTAL_BENCH") != "1":
    raise ImproperlyConfigured("portal.bench is the benchmark's WSGI entry point; set PORTAL_BENCH=1 to use it.")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
QUERIES_HEADER = "X-Bench-Queries"


class _Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _counting(app):
    def application(environ, start_response):
        counter = _Counter()

        def counted_start_response(status, headers, exc_info=None):
            # Django calls this once the response is complete (before a streamed body only).
            return start_response(status, [*headers, (QUERIES_HEADER, str(counter.count))], exc_info)

        with connections["default"].execute_wrapper(counter):
            return app(environ, counted_start_response)

    return application


application = _counting(get_wsgi_application())
