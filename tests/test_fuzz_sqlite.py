"""Issue 14.1: the embedded default (SQLite, `make run`) under concurrent writers.

The suite itself runs on PostgreSQL, so the SQLite side runs in a subprocess with the development
settings (`portal.settings.dev`) and a file database: exactly what `make run` serves with.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from django.conf import settings

WRITERS = textwrap.dedent(
    """
    import threading

    import django

    django.setup()
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
        cursor.execute("INSERT INTO counter (id, value) VALUES (1, 0)")
    connection.close()

    THREADS, ROUNDS = 4, 40
    barrier = threading.Barrier(THREADS)
    errors = []

    def writer():
        try:
            barrier.wait()
            for _ in range(ROUNDS):
                # Read, then write in one transaction: what every service does (a row lock on
                # PostgreSQL). With SQLite's default deferred transactions the lock upgrade fails
                # at once with "database is locked" when another thread writes.
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT value FROM counter WHERE id = 1")
                        value = cursor.fetchone()[0]
                        cursor.execute("UPDATE counter SET value = %s WHERE id = 1", [value + 1])
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM counter WHERE id = 1")
        total = cursor.fetchone()[0]
    print("errors:", errors[:3])
    print("total:", total)
    assert not errors, errors
    assert total == THREADS * ROUNDS, total
    """
)


def test_14_1_concurrent_writers_on_the_embedded_sqlite_default_never_see_database_is_locked(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "PYTEST_XDIST_WORKER")
    }
    env.update(
        {"DJANGO_SETTINGS_MODULE": "portal.settings.dev", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    )
    result = subprocess.run(
        [sys.executable, "-c", WRITERS], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database is locked" not in result.stdout + result.stderr
