"""`make bench`: every page and API list/detail at scale, timed against a bare authenticated page.

1. Data: `manage.py seed_scale --scale $BENCH_SCALE` into a throwaway PostgreSQL 16 (pgserver, as
   `make test`), once: the stopped cluster is kept in var/bench/pgdata-<scale>-<hash>/, the hash
   over every migration and the seed code; later runs copy it (seconds) instead of seeding.
2. Serves a copy with gunicorn (2 workers, production settings, static files by whitenoise) through
   `portal.bench:application`, which adds the header X-Bench-Queries (SQL queries per request).
3. Walks the URLconf like the isolation tests (tests/isolation.py): every GET page and API
   list/detail is measured, new ones automatically. Each route gets an account and an object
   (`CONTEXTS`, `VARIANTS`, `_scale_value`; other URL kwargs come from the isolation tests'
   object factories). Per route: BENCH_REQUESTS requests (default 200) at concurrency
   BENCH_CONCURRENCY (4), interleaved with requests to the bare authenticated page
   (password_change_done) in alternating blocks of 20, as many bare requests as route requests, so
   noise hits both but a bare request never queues behind slow ones; p95 ratio = route p95 / bare
   p95 of the same window, each p95 over the same number of samples.
4. The invoice PDF of the large partner invoice, rendered by the worker's code path
   (`invoice_pdf_ensure`), timed in its own process (killed after BENCH_PDF_TIMEOUT s).

Prints the table, writes it to var/bench/last.md and exits 1 when a ratio is above BENCH_BUDGET
(3), a route failed (5xx, time-out) or the PDF took longer than BENCH_PDF_BUDGET (60 s).
Other knobs: BENCH_ROUTES (regex on route names), BENCH_TIMEOUT (s per request, 30),
BENCH_ROUTE_SECONDS (stop sampling a route after this long, 120), BENCH_PDF=0 (skip the PDF).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
VAR = BASE_DIR / "var" / "bench"
SEED_CODE = [
    "portal/management/commands/seed_scale.py",
    "portal/scale.py",
    "delegations/scale.py",
    "offers/scale.py",
    "billing/scale.py",
    "invoices/scale.py",
    "offers/demo.py",
    "invoices/services/issuing.py",
]
BASELINE = "password_change_done"
# Not measured: sign-in/out and password flows, one-time token links, language switch, the health
# probe, the API schema and docs (generated, not data-dependent), the admin (support tooling).
SKIP = {
    "login",
    "logout",
    "password_change",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "account-setup",
    "set_language",
    "healthz",
    "invitation-accept",
    "delegation-release-accept",
    "delegation-release-api-detail",
    "api-token",
    "api-schema",
    "api-docs",
    "public-media",
}
FUNCTION_PAGES = {"home", "organization-switcher"}
# The account and org a route is measured as: the first match of its name; org routes of the
# agency's delegations as the agency, everything else as the partner's Owner.
CONTEXTS = [
    (re.compile(r"^delegation"), ("agency-owner", "agency")),
    (re.compile(r".*"), ("partner-owner", "partner")),
]
# Routes measured once more per extra (account, org): the access paths the issue names.
_GRANTEES = [("heavy", None), ("single", None), ("agency-owner", None), ("partner-member", None)]
VARIANTS = {
    "home": [*_GRANTEES, ("customer-owner", None)],
    "project-list": _GRANTEES,
    "api-project-list": _GRANTEES,
    "organization-dashboard": [("customer-owner", "customer"), ("agency-owner", "agency")],
    "organization-dashboard-panel": [("customer-owner", "customer"), ("agency-owner", "agency")],
    "organization-projects": [("customer-owner", "customer")],
    "offer-list": [("customer-owner", "customer")],
    "offer-api-list": [("customer-owner", "customer")],
    "customer-list": [("partner-member", "partner")],
    "customer-api-list": [("partner-member", "partner")],
    "organization-switcher": [("partner-member", None)],
    "subscription-api-list": [("customer-owner", None)],
    "invoice-api-list": [("customer-owner", None)],
}

# Routes measured once more per query string (as the route's first account): the customer table's
# sorting, filtering and deep pages (issue 16: "sorts, filters and exports within the budget").
QUERY_VARIANTS = {
    "customer-list": [
        "?sort=-name",
        "?sort=city",
        "?sort=status&page=300",
        "?q=Customer+00042",
        "?has_trial=yes",
        "?has_subscription=no",
        "?per_page=100",
    ],
    "customer-api-list": ["?search=Customer+00042"],
}


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


SCALE = env_float("BENCH_SCALE", 1.0)
REQUESTS = int(env_float("BENCH_REQUESTS", 200))
CONCURRENCY = int(env_float("BENCH_CONCURRENCY", 4))
BUDGET = env_float("BENCH_BUDGET", 3.0)
TIMEOUT = env_float("BENCH_TIMEOUT", 30.0)
ROUTE_SECONDS = env_float("BENCH_ROUTE_SECONDS", 120.0)
PDF_TIMEOUT = env_float("BENCH_PDF_TIMEOUT", 300.0)
PDF_BUDGET = env_float("BENCH_PDF_BUDGET", 60.0)
ROUTES = os.environ.get("BENCH_ROUTES", "")
SECRET_KEY = "bench-only-" + hashlib.sha256(str(BASE_DIR).encode()).hexdigest()


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", flush=True)


# --- data: seed once, cache the stopped cluster -------------------------------------------------


def seed_key() -> str:
    digest = hashlib.sha256()
    files = sorted(BASE_DIR.glob("*/migrations/*.py")) + [BASE_DIR / name for name in SEED_CODE]
    for path in files:
        if path.exists():
            digest.update(str(path.relative_to(BASE_DIR)).encode())
            digest.update(path.read_bytes())
    return f"s{SCALE:g}-{digest.hexdigest()[:12]}"


def django_env(database_url: str, workdir: Path) -> dict:
    env = dict(os.environ)
    for name in ("REDIS_URL", "DEBUG", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        SENDFILE_BACKEND="django_sendfile.backends.simple",
        PRIVATE_MEDIA_ROOT=str(workdir / "private"),
        MEDIA_ROOT=str(workdir / "media"),
        EMAIL_FILE_PATH=str(workdir / "mail"),
        LOG_LEVEL="WARNING",
        PORTAL_BENCH="1",
    )
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def psql(server, sql: str) -> None:
    server.psql(sql)


def cached_cluster() -> Path:
    import pgserver

    key = seed_key()
    cache = VAR / f"pgdata-{key}"
    if cache.exists():
        log(f"seed data cached: {cache.relative_to(BASE_DIR)}")
        return cache
    VAR.mkdir(parents=True, exist_ok=True)
    seeding = Path(tempfile.mkdtemp(prefix="seed-", dir=VAR))
    log(f"seeding scale {SCALE:g} (once; cached as {cache.relative_to(BASE_DIR)})")
    started = time.monotonic()
    server = pgserver.get_server(seeding / "pg", cleanup_mode="stop")
    try:
        # Loading only: durability does not matter until the clean shutdown below.
        psql(server, "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off;")
        psql(server, "SELECT pg_reload_conf();")
        env = django_env(server.get_uri("postgres"), seeding)
        manage(env, "migrate", "--noinput", "-v", "0")
        seed_started = time.monotonic()
        manage(env, "seed_scale", "--scale", f"{SCALE:g}", "--force")
        log(f"seed_scale took {time.monotonic() - seed_started:.0f} s")
        psql(server, "ALTER SYSTEM RESET ALL;")
        psql(server, "SELECT pg_reload_conf();")
        psql(server, "VACUUM ANALYZE;")
    finally:
        server.cleanup()
    for stale in VAR.glob(f"pgdata-s{SCALE:g}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    (seeding / "pg").rename(cache)
    shutil.rmtree(seeding, ignore_errors=True)
    log(f"seeded and cached in {time.monotonic() - started:.0f} s")
    return cache


# --- what to request ----------------------------------------------------------------------------


@dataclass
class Case:
    route: str
    kind: str
    account: str
    path: str
    samples: list[float] = field(default_factory=list)
    base: list[float] = field(default_factory=list)
    queries: int | None = None
    statuses: Counter = field(default_factory=Counter)
    error: str = ""
    variant: str = ""  # a query string or ":<panel>" measured on top of the route

    @property
    def label(self) -> str:
        return f"{self.route}{self.variant}"

    def p(self, values: list[float], q: float) -> float | None:
        if not values:
            return None
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def get_routes():
    """(name, kind, kwargs) of every GET page and API route, walked like tests/isolation.py."""
    from django.urls import get_resolver

    from tests.isolation import _walk

    routes = []
    for pattern, kwargs, namespace in _walk(get_resolver().url_patterns):
        name = f"{namespace}{pattern.name}" if pattern.name else None
        if not name or namespace.startswith("admin") or name in SKIP or "format" in kwargs:
            continue
        callback = pattern.callback
        view_class = getattr(callback, "view_class", None)
        actions = getattr(callback, "actions", None)
        if actions is not None:
            if "get" in actions:
                routes.append((name, "api", kwargs))
        elif view_class is not None:
            if hasattr(view_class, "get"):
                routes.append((name, "page", kwargs))
        elif name in FUNCTION_PAGES:
            routes.append((name, "page", kwargs))
    return routes


class World:
    """The scale objects the routes are measured on (seed_scale's accounts and data)."""

    def __init__(self):
        from delegations.models import Delegation
        from invoices.models import Invoice
        from offers.models import Offer, OfferTemplate
        from organizations.models import Organization
        from projects.models import Project, ProjectRoleGrant

        self.users = self.accounts()
        self.orgs = {
            "partner": Organization.objects.get(name="Scale Partner GmbH"),
            "agency": Organization.objects.get(name="Scale Agentur GmbH"),
            "customer": Organization.objects.get(name="Scale Customer 000000"),
        }
        self.project = Project.objects.filter(organization=self.orgs["customer"]).order_by("id").first()
        single_grant = ProjectRoleGrant.objects.filter(user=self.users["single"]).select_related("project").first()
        self.projects = {"single": single_grant.project if single_grant else self.project}
        self.grant = ProjectRoleGrant.objects.filter(project=self.project).order_by("id").first()
        self.invoice = Invoice.objects.filter(recipient=self.orgs["partner"]).order_by("-id").first()
        self.delegation = Delegation.objects.filter(caretaker=self.orgs["agency"]).order_by("id").first()
        self.offer = Offer.objects.filter(partner=self.orgs["partner"]).order_by("-created_at").first()
        self.template = OfferTemplate.objects.filter(partner=self.orgs["partner"], name="Scale-Paket").first()

    def panel_keys(self, account: str, org) -> list[str]:
        from organizations.dashboards import dashboard_panel_keys
        from portal.tenancy import org_context_for_organization

        return dashboard_panel_keys(org_context_for_organization(self.users[account], org))

    @staticmethod
    def accounts() -> dict:
        from organizations.models import User
        from portal.management.commands.seed_scale import ACCOUNTS, account_email

        return {name: User.objects.filter(email=account_email(name)).first() for name in ACCOUNTS}

    def value(self, kwarg: str, account: str, org):
        if kwarg == "org":
            return org.public_id
        if kwarg == "customer":
            return self.orgs["customer"].public_id
        if kwarg in ("number", "project_number"):
            return self.projects.get(account, self.project).number
        if kwarg == "grant_id":
            return self.grant.pk
        if kwarg == "invoice_id" and org == self.orgs["partner"]:
            return self.invoice.pk
        if kwarg == "delegation_id" and org == self.orgs["agency"]:
            return self.delegation.pk
        if kwarg == "offer_id" and org == self.orgs["partner"]:
            return self.offer.pk
        if kwarg == "template_id" and org == self.orgs["partner"]:
            return self.template.pk
        if kwarg == "item_id" and org == self.orgs["partner"]:
            return self.template.items.order_by("id").first().pk
        if kwarg == "pk":  # a notification of the account
            from portal.models import Notification
            from portal.notifications import REGISTRY, notification_create_many

            user = self.users[account]
            note = Notification.objects.filter(recipient=user).first()
            if note is None:
                [note] = notification_create_many(recipients=[user], kind=next(iter(REGISTRY)), params={})
            return note.pk
        from tests.isolation import OBJECT_FACTORIES

        factory = OBJECT_FACTORIES.get(kwarg)
        return factory(org, self.users[account]) if factory else None


def build_cases() -> tuple[list[Case], list[str]]:
    """The cases to measure and the routes skipped (why). Django is set up; objects the isolation
    factories build are written to the (throwaway) database."""
    from django.urls import reverse

    from tests.isolation import load_app_factories

    load_app_factories()
    world = World()
    cases, skipped = [], []
    pattern = re.compile(ROUTES) if ROUTES else None
    for name, kind, kwargs in get_routes():
        if pattern and not pattern.search(name) and name != BASELINE:
            continue
        account, org_key = next(ctx for regex, ctx in CONTEXTS if regex.search(name))
        contexts = [(account, org_key)] + [(extra, extra_org or org_key) for extra, extra_org in VARIANTS.get(name, [])]
        for account, org_key in contexts:
            org = world.orgs[org_key]
            try:
                values = {kwarg: world.value(kwarg, account, org) for kwarg in kwargs}
            except Exception as error:  # noqa: BLE001 - a factory that cannot build here: reported
                skipped.append(f"{name} ({account}): no object ({type(error).__name__}: {error})")
                continue
            missing = [k for k, v in values.items() if v is None]
            if missing:
                skipped.append(f"{name} ({account}): no object for {', '.join(missing)}")
                continue
            if "panel" in kwargs:  # every dashboard panel this account sees, each on its own
                for key in world.panel_keys(account, org):
                    url = reverse(name, kwargs={**values, "panel": key})
                    cases.append(Case(name, kind, account, url, variant=f":{key}"))
                continue
            cases.append(Case(name, kind, account, reverse(name, kwargs=values)))
            if account == contexts[0][0]:
                for query in QUERY_VARIANTS.get(name, []):
                    url = reverse(name, kwargs=values) + query
                    cases.append(Case(name, kind, account, url, variant=query))
    return cases, skipped


def create_sessions() -> dict[str, str]:
    """A session (cookie value) per seed_scale account, as a login would leave it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    sessions = {}
    for name, user in World.accounts().items():
        if user is None:
            continue
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "organizations.backends.EmailBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions[name] = store.session_key
    return sessions


def plan() -> tuple[list[Case], list[str], dict[str, str]]:
    import django
    from django.db import connection

    django.setup()
    cases, skipped = build_cases()
    sessions = create_sessions()
    connection.close()
    return cases, skipped, sessions


# --- serving and measuring ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "portal.bench:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            str(int(TIMEOUT) + 5),
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500:
                return process
        except requests.RequestException:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("gunicorn did not start")


_local = threading.local()


def fetch(base_url: str, path: str, kind: str, session_key: str) -> tuple[float, int, int | None]:
    import requests

    http = getattr(_local, "session", None)
    if http is None:
        http = _local.session = requests.Session()
    accept = "application/json" if kind == "api" else "text/html"
    started = time.perf_counter()
    response = http.get(
        base_url + path,
        headers={"Accept": accept},
        cookies={"sessionid": session_key},
        timeout=TIMEOUT,
        allow_redirects=False,
        stream=True,
    )
    # Every byte the server sends, as sent: a gzip-encoded download (the XRechnung's 130 KB copy)
    # is not unpacked, which took the client 8.5 ms for 12.5 MB and is no cost of the server's
    # (as with wrk or ab). Pages and JSON are not compressed by the portal, so nothing else changes.
    _ = response.raw.read(decode_content=False)
    elapsed = time.perf_counter() - started
    queries = response.headers.get("X-Bench-Queries")
    return elapsed, response.status_code, int(queries) if queries else None


def measure(case: Case, baseline: Case, base_url: str, sessions: dict[str, str]) -> None:
    session = sessions[case.account]
    base_session = sessions["partner-owner"]
    try:  # warm-up (templates, connections), and the time-out check
        for _ in range(2):
            elapsed, status, queries = fetch(base_url, case.path, case.kind, session)
            case.queries = queries
            fetch(base_url, baseline.path, baseline.kind, base_session)
    except Exception as error:  # noqa: BLE001 - reported in the table
        case.error = f"{type(error).__name__}"
        return
    # The route and the bare page alternate in blocks, so both see the same machine load and noise,
    # but a bare request never queues behind the route's slow ones (that would hide the ratio).
    stop_at = time.monotonic() + ROUTE_SECONDS
    lock = threading.Lock()

    def run(job):
        which, path, kind, key = job
        if which == "case" and time.monotonic() > stop_at:
            return  # out of time for this route: fewer samples (the table shows n)
        try:
            elapsed, status, queries = fetch(base_url, path, kind, key)
        except Exception as error:  # noqa: BLE001 - reported in the table
            with lock:
                case.error = type(error).__name__
            return
        with lock:
            if which == "case":
                case.samples.append(elapsed)
                case.statuses[status] += 1
                if queries is not None:
                    case.queries = max(case.queries or 0, queries)
            else:
                case.base.append(elapsed)

    block = max(CONCURRENCY, 20)
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        done = 0
        while done < REQUESTS and time.monotonic() < stop_at and not case.error:
            size = min(block, REQUESTS - done)
            list(pool.map(run, [("case", case.path, case.kind, session)] * size))
            # as many bare requests as the route's: both p95 are read off the same number of samples
            list(pool.map(run, [("base", baseline.path, baseline.kind, base_session)] * max(CONCURRENCY, size)))
            done += size


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f}"


def table(cases: list[Case]) -> tuple[str, list[Case]]:
    rows = [
        "| route | kind | account | queries | n | status | p50 ms | p95 ms | bare p95 ms | p95 ratio |",
        "|---|---|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    over = []
    for case in cases:
        p95, base95 = case.p(case.samples, 0.95), case.p(case.base, 0.95)
        ratio = (p95 / base95) if p95 is not None and base95 else None
        statuses = ",".join(str(s) for s, _n in case.statuses.most_common()) or "–"
        failed = case.error or any(s >= 500 for s in case.statuses) or ratio is None
        flag = ""
        if failed or (ratio is not None and ratio > BUDGET):
            over.append(case)
            flag = " ❌"
        ratio_text = case.error or ("–" if ratio is None else f"{ratio:.1f}×")
        rows.append(
            f"| {case.label} | {case.kind} | {case.account} | {case.queries if case.queries is not None else '–'} "
            f"| {len(case.samples)} | {statuses} | {ms(case.p(case.samples, 0.5))} | {ms(p95)} | {ms(base95)} "
            f"| {ratio_text}{flag} |"
        )
    return "\n".join(rows), over


def measure_pdf(env: dict) -> tuple[str, bool]:
    """Render the large partner invoice's PDF by the worker's code path, in its own process."""
    code = (
        "import time, django; django.setup()\n"
        "from invoices.models import Invoice\n"
        "from invoices.services.issuing import invoice_pdf_ensure\n"
        "invoice = Invoice.objects.filter(recipient__name='Scale Partner GmbH').order_by('-id').first()\n"
        "invoice.pdf = ''\n"
        "lines = invoice.lines.count()\n"
        "started = time.monotonic()\n"
        "invoice_pdf_ensure(invoice=invoice)\n"
        "print(f'{lines} {time.monotonic() - started:.1f}')\n"
    )
    started = time.monotonic()
    try:
        done = subprocess.run(
            [str(BIN / "python"), "-c", code],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=PDF_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return f"invoice PDF (worker path): not finished after {PDF_TIMEOUT:.0f} s (killed) ❌", False
    if done.returncode != 0:
        return (
            f"invoice PDF (worker path): failed after {time.monotonic() - started:.0f} s: {done.stderr[-500:]}",
            False,
        )
    lines, seconds = done.stdout.split()[-2:]
    ok = float(seconds) <= PDF_BUDGET
    return (
        f"invoice PDF (worker path, {lines} lines): {seconds} s (budget {PDF_BUDGET:.0f} s){'' if ok else ' ❌'}",
        ok,
    )


def static_is_stale() -> bool:
    """collectstatic (with compression: minutes on a busy machine) only when a source changed."""
    manifest = BASE_DIR / "staticfiles" / "staticfiles.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [BASE_DIR / "static", *BASE_DIR.glob("*/static")]
    return any(path.stat().st_mtime > built for folder in sources for path in folder.rglob("*") if path.is_file())


def main() -> int:
    import pgserver

    started = time.monotonic()
    cache = cached_cluster()
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    server = gunicorn = None
    try:
        # `cp -a` keeps the owner: pgserver runs PostgreSQL as its own system user under root.
        subprocess.run(["cp", "-a", str(cache), str(workdir / "pg")], check=True)
        server = pgserver.get_server(workdir / "pg", cleanup_mode="stop")
        env = django_env(server.get_uri("postgres"), workdir)
        os.environ.update(env)
        if static_is_stale():
            manage(env, "collectstatic", "--noinput", "-v", "0")
        manage(env, "compiletranslations")
        cases, skipped, sessions = plan()
        baseline = next((c for c in cases if c.route == BASELINE), None)
        if baseline is None:
            from django.urls import reverse

            baseline = Case(BASELINE, "page", "partner-owner", reverse(BASELINE))
        cases = [c for c in cases if c.route != BASELINE]
        port = free_port()
        gunicorn = start_gunicorn(env, port)
        base_url = f"http://127.0.0.1:{port}"
        log(f"{len(cases)} routes × {REQUESTS} requests, concurrency {CONCURRENCY}, scale {SCALE:g}")
        for number, case in enumerate(cases, 1):
            measure(case, baseline, base_url, sessions)
            p95, base95 = case.p(case.samples, 0.95), case.p(case.base, 0.95)
            ratio = f"{p95 / base95:.1f}×" if p95 and base95 else case.error or "–"
            log(f"{number}/{len(cases)} {case.label} ({case.account}): p95 {ms(p95)} ms, {ratio}")
        text, over = table(cases)
        pdf_line, pdf_ok = ("invoice PDF: skipped (BENCH_PDF=0)", True)
        if os.environ.get("BENCH_PDF", "1") != "0":
            log("rendering the large invoice's PDF (worker path)")
            pdf_line, pdf_ok = measure_pdf(env)
        summary = [
            f"# Benchmark (scale {SCALE:g}, {REQUESTS} requests per route, concurrency {CONCURRENCY}, "
            f"budget {BUDGET:g}× the bare authenticated page `{BASELINE}`)",
            "",
            text,
            "",
            pdf_line,
            "",
            f"{len(over)} of {len(cases)} routes over budget or failed"
            + (": " + ", ".join(f"{c.label} ({c.account})" for c in over) if over else "."),
        ]
        if skipped:
            summary += ["", "Not measured (no object to request):", *[f"- {s}" for s in skipped]]
        summary += ["", f"Total time {time.monotonic() - started:.0f} s."]
        output = "\n".join(summary) + "\n"
        print(output)
        VAR.mkdir(parents=True, exist_ok=True)
        (VAR / "last.md").write_text(output)
        return 1 if over or not pdf_ok else 0
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        if server is not None:
            server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(BASE_DIR))
    sys.exit(main())
