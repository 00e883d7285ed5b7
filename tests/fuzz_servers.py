"""A real server for the schemathesis tests: the app under gunicorn in a subprocess.

`AppServer` runs `manage.py migrate`, `seed_demo` and gunicorn with the given settings and
database, from this checkout (not whatever `portal` the virtualenv points at), and hands out a
demo user's API token. (The PostgreSQL outage is tested by `tests/faults/test_postgres_restart.py`
on the fault tests' stack.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    def __init__(
        self,
        *,
        database_url: str,
        workdir: Path,
        settings: str = "portal.settings.dev",
        workers: int = 2,
        threads: int = 1,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "REDIS_URL", "PYTEST_XDIST_WORKER", "DJANGO_SETTINGS_MODULE")
            and not key.startswith("PYTEST_")
        }
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": settings,
                "DATABASE_URL": database_url,
                "DEBUG": "false",  # the answers clients get in production: no debug pages
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "MEDIA_ROOT": str(workdir / "media"),
                "EMAIL_FILE_PATH": str(workdir / "mail"),
                "PYTHONPATH": str(ROOT),
                "LOG_LEVEL": "WARNING",
            }
        )
        self.workers, self.threads = workers, threads
        self.process: subprocess.Popen | None = None
        self.log = workdir / "server.log"

    def manage(self, *args: str, input: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            input=input,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def prepare(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("seed_demo", "--force")

    def token(self, email: str) -> str:
        return (
            self.manage(
                "shell",
                "-c",
                "from rest_framework.authtoken.models import Token; from django.contrib.auth import get_user_model; "
                f"print(Token.objects.get_or_create(user=get_user_model().objects.get(email={email!r}))[0].key)",
            )
            .strip()
            .splitlines()[-1]
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "portal.wsgi:application",
                "--chdir",
                str(ROOT),
                "--pythonpath",
                str(ROOT),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                requests.get(f"{self.url}/accounts/login/", timeout=10)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
