#!/bin/sh
# The suite in two pytest runs (both inside scripts/with_services.py's PostgreSQL and Redis):
# everything but the schemathesis fuzz tests first, then those. In one xdist session together they
# made a worker stop before its first test (seen 2026-12-03, not yet understood); apart they pass.
# Exit status 5 ("no tests collected", e.g. a PYTEST_ARGS path without fuzz tests) counts as success
# for the second run only.
set -u
python=$1; processes=$2; shift 2
"$python" -m pytest -n "$processes" -m "not fuzz" "$@"
first=$?
"$python" -m pytest -n "$processes" -m fuzz "$@"
second=$?
[ "$second" -eq 5 ] && second=0
[ "$first" -ne 0 ] && exit "$first"
exit "$second"
