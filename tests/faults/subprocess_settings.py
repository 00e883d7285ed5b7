"""Settings of the processes the fault tests start (web server, Celery worker, scripts).

The test settings, pointed at the fault tests' own PostgreSQL and Redis (DATABASE_URL, REDIS_URL),
with what a test needs to observe and speed up recovery:
- emails are files in FAULT_EMAIL_DIR (one file per message), so the test counts what was sent;
- the webhook receiver listens on 127.0.0.1;
- the outbox timings are shortened (FAULT_OUTBOX_SECONDS), so a dead worker's rows come back
  within seconds, and beat runs the sweeper every FAULT_SWEEP_SECONDS.
"""

import os
from datetime import timedelta

from portal.settings.test import *  # noqa: F401,F403

CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["FAULT_EMAIL_DIR"]
MEDIA_ROOT = os.environ["FAULT_MEDIA_ROOT"]
OFFER_WEBHOOK_ALLOW_PRIVATE = True
OFFER_WEBHOOK_TIMEOUT_SECONDS = 5
PORTAL_BASE_URL = "http://portal.test"

# Whatever outbox timings exist (today OUTBOX_STUCK_AFTER; heartbeats add more), shortened – kept
# in the type the base settings use (timedelta or seconds).
_OUTBOX_SECONDS = float(os.environ.get("FAULT_OUTBOX_SECONDS", "3"))
for _name, _seconds in {
    "OUTBOX_STUCK_AFTER": _OUTBOX_SECONDS,
    "OUTBOX_STALE_AFTER": _OUTBOX_SECONDS,
    "OUTBOX_HEARTBEAT_SECONDS": max(_OUTBOX_SECONDS / 3, 0.5),
    "OUTBOX_HEARTBEAT_INTERVAL": max(_OUTBOX_SECONDS / 3, 0.5),
}.items():
    if _name in globals():
        _current = globals()[_name]
        globals()[_name] = timedelta(seconds=_seconds) if isinstance(_current, timedelta) else type(_current)(_seconds)

CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {
        "task": "portal.tasks.outbox_sweep",
        "schedule": timedelta(seconds=float(os.environ.get("FAULT_SWEEP_SECONDS", "1"))),
    },
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# The tests send a hundred requests a minute with one token: API throttles stay in the request
# path (and must keep working while Redis is down) but never limit.
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        scope: "100000/min"
        for scope in REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})  # noqa: F405
    },
}
