"""Settings shared by every environment; everything that differs comes from the environment.

Environment variables:
  SECRET_KEY, DEBUG, ALLOWED_HOSTS (comma separated), CSRF_TRUSTED_ORIGINS,
  DATABASE_URL (default: SQLite in the checkout), REDIS_URL (unset: tasks run in process),
  EMAIL_URL-like settings: EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
  EMAIL_USE_TLS, DEFAULT_FROM_EMAIL (unset EMAIL_HOST: emails are written to var/mail/),
  PORTAL_BASE_URL (absolute links in emails), MEDIA_ROOT, PRIVATE_MEDIA_ROOT, TRIAL_DAYS, TRIAL_LICENSES.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-secret-key-change-me-in-production-0123456789")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Registers OpClass as an index wrapper: without it the trigram indexes (portal/indexes.py)
    # render as `((UPPER("name") gin_trgm_ops))`, a syntax error on every PostgreSQL that has
    # pg_trgm. Harmless on SQLite.
    "django.contrib.postgres",
    "django.forms",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "django_tables2",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_countries",
    "django_htmx",
    "axes",
    "csp",
    "portal",
    "organizations",
    "projects",
    "delegations",
    "offers",
    "billing",
    "invoices",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.UserLanguageMiddleware",
    "portal.middleware.DomainErrorMiddleware",
    # 503 with Retry-After instead of a 500 page while the database is unreachable.
    "portal.middleware.DatabaseUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    "organizations.middleware.PasswordChangeRequiredMiddleware",
    # Axes must be last so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# Widgets render through the project's template engine, so templates/django/forms/ can override a
# built-in widget template (the select with inlined options, for the 250-country address field).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        # A persistent connection is checked before each request reuses it: after a database
        # outage the app reconnects by itself instead of failing until a restart.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves several threads (runserver, gunicorn --threads): IMMEDIATE
    # transactions take the write lock up front, so a transaction that read first never fails on
    # the lock upgrade; writers wait up to `timeout` seconds instead of answering
    # "database is locked"; WAL lets readers run beside the one writer.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "organizations.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "organizations.backends.EmailBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# django-guardian: no anonymous user row; direct-FK permission models live in projects.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# i18n
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format per language in pages, emails and PDFs (issue 16): portal/formats/<lang>/formats.py.
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "portal_language"
LANGUAGE_COOKIE_SECURE = False
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Static and media files: whitenoise serves static files from the app itself (no CDN).
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Private files (invoice PDFs): outside MEDIA_ROOT, no URL; only views that check access hand them
# out, through django-sendfile2 (portal/files.py). Production: the proxy sends them (X-Accel-Redirect).
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "var" / "private"))
PRIVATE_STORAGE = {"BACKEND": "portal.files.PrivateFileSystemStorage"}
SENDFILE_BACKEND = "django_sendfile.backends.simple"
SENDFILE_ROOT = str(PRIVATE_MEDIA_ROOT)
SENDFILE_URL = "/protected"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": PRIVATE_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Redis: unset means the embedded default (tasks in process, local memory cache).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when Redis is down: the outbox row keeps the work (PLT-3).
# `ack_emulation` off: the broker is only the doorbell. The outbox row is what guarantees the work
# (the sweeper re-publishes pending rows and releases those of dead workers), and every periodic
# job catches up on a missed run. Kombu's emulated acks add nothing here, and they crash the
# worker: when Redis goes away while tasks are unacknowledged, kombu 5.7 restores them on a
# connection that is already released (AttributeError, "Unrecoverable error"), and the worker
# exits. tests/faults/test_redis_outage.py reproduced this with the prefork pool.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "ack_emulation": False,
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = TIME_ZONE
# Routing: every job is a named task, so a queue per job is one line here, e.g.
#   CELERY_TASK_ROUTES = {"invoices.tasks.*": {"queue": "invoices"}}
# and a worker for it: `celery -A portal worker -Q invoices`. Unrouted tasks go to "celery".
CELERY_TASK_ROUTES = {}
# Every periodic job, by its task name (the only beat schedule; apps add none of their own).
CELERY_BEAT_SCHEDULE = {
    # PLT-3: releases rows of dead workers (stale heartbeat) and re-publishes what Redis missed.
    "portal.tasks.outbox_sweep": {
        "task": "portal.tasks.outbox_sweep",
        "schedule": timedelta(seconds=int(os.environ.get("OUTBOX_SWEEP_SECONDS", "15"))),
    },
    # Finished outbox rows (and the secrets they held) are not kept for ever.
    "portal.tasks.outbox_purge": {"task": "portal.tasks.outbox_purge", "schedule": crontab(minute=17, hour=3)},
    # ORG-5: record expiries of pending invitations (reads never wait for it).
    "organizations.tasks.invitation_expire_due": {
        "task": "organizations.tasks.invitation_expire_due",
        "schedule": timedelta(minutes=15),
    },
    # DLG-5/6: record expiries and send the 7-day warnings (idempotent, so running often is fine).
    "delegations.tasks.delegation_process_expiries": {
        "task": "delegations.tasks.delegation_process_expiries",
        "schedule": timedelta(minutes=15),
    },
    # BIL-2: record trial expiries and start renewal terms (reads never wait for it).
    "billing.tasks.subscriptions_process_due": {
        "task": "billing.tasks.subscriptions_process_due",
        "schedule": timedelta(minutes=30),
    },
    # Issue 13/16: the customer table's stored subscription flags (filters never wait for it).
    "billing.tasks.subscription_flags_refresh": {
        "task": "billing.tasks.subscription_flags_refresh",
        "schedule": timedelta(minutes=1),
    },
    "billing.tasks.subscription_flags_reconcile": {
        "task": "billing.tasks.subscription_flags_reconcile",
        "schedule": crontab(minute=40, hour=3),
    },
    # BIL-5: last month's invoices; idempotent, so the repeats on the 2nd and 3rd catch a missed run.
    "invoices.tasks.invoice_monthly_run": {
        "task": "invoices.tasks.invoice_monthly_run",
        "schedule": crontab(minute=30, hour=2, day_of_month="1-3"),
    },
    # Issue 15 dunning: mark overdue invoices, queue payment reminders (idempotent: once per level).
    "invoices.tasks.dunning_run": {"task": "invoices.tasks.dunning_run", "schedule": crontab(minute=45, hour=6)},
    # Issue 16: customer-table exports (and their files) are kept CUSTOMER_EXPORT_RETENTION_DAYS.
    "organizations.tasks.customer_export_purge": {
        "task": "organizations.tasks.customer_export_purge",
        "schedule": crontab(minute=25, hour=3),
    },
}
# Issue 16: days a prepared customer export stays downloadable.
CUSTOMER_EXPORT_RETENTION_DAYS = int(os.environ.get("CUSTOMER_EXPORT_RETENTION_DAYS", "7"))

# Issue 15 dunning: an invoice is due this many days after its date; reminder level n is emailed
# DUNNING_REMINDER_DAYS[n-1] days after the due date (comma-separated, e.g. "7,21").
INVOICE_PAYMENT_TERMS_DAYS = int(os.environ.get("INVOICE_PAYMENT_TERMS_DAYS", "14"))
DUNNING_REMINDER_DAYS = [
    int(days) for days in os.environ.get("DUNNING_REMINDER_DAYS", "7,21").split(",") if days.strip()
]

# Email: SMTP where configured, otherwise one file per message in var/mail/.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = Path(os.environ.get("EMAIL_FILE_PATH", BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Reseller Portal <noreply@portal.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Django REST framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PortalPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {"token": "20/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Reseller Portal API",
    "DESCRIPTION": "Partners, customers and caretakers: organizations, projects, delegations, offers, billing.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The error shape on every operation (400/401/403/404/409/429/503), see portal/api/schema.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.schema.add_error_responses",
    ],
    # Several models call their state field "status"; name each enum after its model (no W001).
    "ENUM_NAME_OVERRIDES": {
        # Projects and organizations share the choice set active/archived.
        "LifecycleStatusEnum": "projects.models.Project.Status",
        "DelegationStatusEnum": "delegations.models.Delegation.Status",
        "CustomerRelationStatusEnum": "organizations.models.CustomerRelation.Status",
        "OfferStatusEnum": "offers.models.Offer.Status",
        "OfferBulkSendStatusEnum": "offers.models.OfferBulkSend.Status",
        "ProductKindEnum": "offers.models.Product.Kind",
        "InvoiceKindEnum": "invoices.models.Invoice.Kind",
        "OrgKindEnum": "organizations.roles.OrgKind",
        "OfferLicenseModeEnum": "offers.models.LicenseMode",
        "SubscriptionLicenseModeEnum": "billing.models.Subscription.LicenseMode",
        "SubscriptionStatusEnum": "billing.models.Subscription.Status",
        "SubscriptionSourceEnum": "billing.models.Subscription.Source",
        "CountryEnum": "organizations.api.serializers.country_choices",
        "ConnectionDirectionEnum": "organizations.api.serializers.CONNECTION_DIRECTIONS",
        "DelegationDirectionEnum": "delegations.models.Delegation.Direction",
        "OrgRoleEnum": "organizations.roles.OrgRole",
        "ProjectRoleEnum": "projects.roles.ProjectRole",
        "PaymentMethodKindEnum": "invoices.models.PaymentMethod.Kind",
        # ORG-5: invitation states.
        "InvitationStatusEnum": "organizations.models.Invitation.Status",
    },
}

# django-axes: login lockout (PLT-5). An account is locked only for the address that failed
# (combination), so made-up names cannot lock out everyone behind a shared address; an address as
# a whole is locked after the much higher AXES_IP_FAILURE_LIMIT (portal.login_lockout's handler).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_IP_FAILURE_LIMIT = int(os.environ.get("AXES_IP_FAILURE_LIMIT", "50"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "portal.login_lockout.PortalAxesHandler"
AXES_USERNAME_FORM_FIELD = "username"
# Emails are case-insensitive: LISA@… and lisa@… count as one account.
AXES_USERNAME_CALLABLE = "portal.login_lockout.lockout_username"
AXES_RESET_ON_SUCCESS = True
# The API answers its JSON error shape, the browser a page (portal.login_lockout.lockout_response).
AXES_LOCKOUT_CALLABLE = "portal.login_lockout.lockout_response"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# django-csp 4: Content Security Policy (PLT-5). Everything is served by the app itself.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Domain settings
TRIAL_DAYS = int(os.environ.get("TRIAL_DAYS", "30"))
TRIAL_LICENSES = int(os.environ.get("TRIAL_LICENSES", "2"))
# BIL-8: an issued invoice stays readable by the org it is addressed to for this many years after
# its issue, whatever its relations are now (German retention of invoices: 10 years, § 147 AO).
INVOICE_RETENTION_YEARS = int(os.environ.get("INVOICE_RETENTION_YEARS", "10"))
# An invitation link and a newcomer's "choose your password" link (organizations/account_setup.py)
# both work this many days: one setting, so they never drift apart (issue 16).
INVITATION_VALID_DAYS = 7
OUTBOX_MAX_ATTEMPTS = 8
# A worker refreshes the heartbeat of the row it runs every OUTBOX_HEARTBEAT_SECONDS; the sweeper
# releases a row whose heartbeat is older than OUTBOX_STALE_AFTER (its worker died).
OUTBOX_HEARTBEAT_SECONDS = float(os.environ.get("OUTBOX_HEARTBEAT_SECONDS", "5"))
OUTBOX_STALE_AFTER = timedelta(seconds=float(os.environ.get("OUTBOX_STALE_AFTER_SECONDS", "15")))
# Done and failed outbox rows are deleted after this many days (daily beat job `portal.tasks.outbox_purge`).
OUTBOX_RETENTION_DAYS = int(os.environ.get("OUTBOX_RETENTION_DAYS", "30"))

# Who issues the invoices (the platform; a white-label operator sets its own): printed on the PDF
# and written into the e-invoice XML (invoices/vat.py, invoices/einvoice.py). Each key can be set
# from the environment as INVOICE_ISSUER_<KEY> (e.g. INVOICE_ISSUER_VAT_ID).
PORTAL_INVOICE_ISSUER = {
    key: os.environ.get(f"INVOICE_ISSUER_{key.upper()}", default)
    for key, default in {
        "name": "Reseller Platform GmbH",
        "street": "Platzstraße 1",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
        "vat_id": "DE100000008",
        "tax_number": "1130/123/45678",
        "email": "billing@portal.example",
        "phone": "+49 30 1234567",
        "bank": "Berliner Bank",
        "iban": "DE02100100100006820101",
        "bic": "PBNKDEFFXXX",
    }.items()
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# auth.W004: the email is unique case-insensitively through the constraint `user_email_ci_unique`.
# models.W040: SQLite (`make run`) builds the covering indexes without their included columns
# (`subscription_paid_in_force`); they only spare PostgreSQL the table reads at scale.
SILENCED_SYSTEM_CHECKS = ["auth.W004", "models.W040"]
AXES_VERBOSE = False
