"""The Celery application of the portal (cookiecutter-django layout)."""

import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@worker_ready.connect
def sweep_outbox_when_a_worker_starts(sender=None, **kwargs):
    """A (re)started worker takes over at once what a dead worker left behind (no wait for beat).

    Rows whose heartbeat is not stale yet are released by a second sweep once it is.
    """
    from django.conf import settings

    from portal.tasks import outbox_sweep

    try:
        outbox_sweep.apply_async(retry=False)
        outbox_sweep.apply_async(countdown=settings.OUTBOX_STALE_AFTER.total_seconds() + 1, retry=False)
    except Exception:  # noqa: BLE001 - the beat sweep catches up; a worker must start anyway
        logger.warning("Could not schedule the start-up outbox sweep", exc_info=True)
