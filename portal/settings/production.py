"""Production: everything secret or host-specific comes from the environment."""

import os

from .base import *  # noqa: F401,F403
from .base import PRIVATE_MEDIA_ROOT, env_bool

DEBUG = False
SECRET_KEY = os.environ["SECRET_KEY"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Secure cookies need HTTPS; SECURE_COOKIES=false only for a local plain-HTTP trial (docker compose).
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
LANGUAGE_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Private files (portal/files.py) are sent by the proxy: the app answers with X-Accel-Redirect to
# SENDFILE_URL + the file's name, an `internal` proxy location aliased to SENDFILE_ROOT
# (deploy/nginx.conf). Without such a proxy set SENDFILE_BACKEND=django_sendfile.backends.simple.
SENDFILE_BACKEND = os.environ.get("SENDFILE_BACKEND", "django_sendfile.backends.nginx")
SENDFILE_ROOT = os.environ.get("SENDFILE_ROOT", str(PRIVATE_MEDIA_ROOT))
SENDFILE_URL = os.environ.get("SENDFILE_URL", "/protected")
