"""A real `celery worker` process on the test database, for tests that kill a worker mid-task.

`settings` below is its settings module (DJANGO_SETTINGS_MODULE=tests.subprocess_worker): the test
settings with a real broker, local webhook receivers allowed, and outbox timings from the
environment so a test can shorten them (OUTBOX_HEARTBEAT_SECONDS, OUTBOX_STALE_AFTER_SECONDS,
OFFER_WEBHOOK_TIMEOUT_SECONDS).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

if os.environ.get("DJANGO_SETTINGS_MODULE") == "tests.subprocess_worker":
    from portal.settings.test import *  # noqa: F401,F403

    CELERY_TASK_ALWAYS_EAGER = False
    OFFER_WEBHOOK_ALLOW_PRIVATE = True
    OFFER_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("OFFER_WEBHOOK_TIMEOUT_SECONDS", "10"))

ROOT = Path(__file__).resolve().parent.parent


class WorkerProcess:
    """`celery -A portal worker --pool=solo` on the current test database; `kill()` is SIGKILL."""

    def __init__(self, **environment: str):
        from django.db import connection

        database_url = urlsplit(os.environ["DATABASE_URL"])
        test_database = connection.settings_dict["NAME"]
        self.environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.subprocess_worker",
            "DATABASE_URL": urlunsplit(database_url._replace(path=f"/{test_database}")),
            **environment,
        }
        self.log = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)
        self.process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"test-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=ROOT,
            env=self.environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")
