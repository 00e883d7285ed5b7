"""Test settings: PostgreSQL and Redis from the environment (`make test` starts throwaway ones)."""

import os

# pytest-xdist (`make test` runs two processes): each process gets its own Redis database, so a
# process's Celery worker never takes the other's tasks, and its own media folder. PostgreSQL
# test databases are separated by pytest-django itself (test_<name>_gw0, …).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER and os.environ.get("REDIS_URL"):
    from urllib.parse import urlsplit, urlunsplit

    _redis = urlsplit(os.environ["REDIS_URL"])
    os.environ["REDIS_URL"] = urlunsplit(_redis._replace(path=f"/{int(XDIST_WORKER.removeprefix('gw')) + 1}"))

from .base import *  # noqa: E402,F401,F403
from .base import BASE_DIR, PRIVATE_STORAGE  # noqa: E402

if not os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")):
    raise RuntimeError(
        "The test suite runs against real PostgreSQL and Redis: use `make test`, "
        "which starts throwaway servers, or set DATABASE_URL and REDIS_URL."
    )

DEBUG = False
# An undeclared audit action or payload key raises (portal.audit), as under DEBUG.
AUDIT_STRICT = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": PRIVATE_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "var" / f"test-media{XDIST_WORKER}"
PRIVATE_MEDIA_ROOT = BASE_DIR / "var" / f"test-private{XDIST_WORKER}"
SENDFILE_ROOT = str(PRIVATE_MEDIA_ROOT)
# Unit tests run tasks in process; integration tests switch this off and use a real worker.
CELERY_TASK_ALWAYS_EAGER = True
AXES_FAILURE_LIMIT = 5
LOGGING = {"version": 1, "disable_existing_loggers": False}
