"""Test settings: PostgreSQL and Redis from the environment (`make test` starts throwaway ones)."""
import os

from .base import *  # noqa: F401,F403
from .base import BASE_DIR

if not os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")):
    raise RuntimeError(
        "The test suite runs against real PostgreSQL and Redis: use `make test`, "
        "which starts throwaway servers, or set DATABASE_URL and REDIS_URL."
    )

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
# Unit tests run tasks in process; integration tests switch this off and use a real worker.
CELERY_TASK_ALWAYS_EAGER = True
AXES_FAILURE_LIMIT = 5
LOGGING = {"version": 1, "disable_existing_loggers": False}
