"""Settings of `tests.harness.WorkerProcess`, a real `celery worker` process on the test database:
the test settings with a real broker, local webhook receivers allowed, and outbox timings from the
environment so a test can shorten them (OUTBOX_HEARTBEAT_SECONDS, OUTBOX_STALE_AFTER_SECONDS,
OFFER_WEBHOOK_TIMEOUT_SECONDS)."""

import os

from portal.settings.test import *  # noqa: F401,F403

CELERY_TASK_ALWAYS_EAGER = False
OFFER_WEBHOOK_ALLOW_PRIVATE = True
OFFER_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("OFFER_WEBHOOK_TIMEOUT_SECONDS", "10"))
