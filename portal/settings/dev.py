"""Local development: `make run` uses these (SQLite, in-process tasks, file emails by default)."""

from .base import *  # noqa: F401,F403
from .base import PRIVATE_STORAGE, env_bool

DEBUG = env_bool("DEBUG", True)
# runserver serves the collected files through whitenoise; no manifest needed while developing.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": PRIVATE_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
