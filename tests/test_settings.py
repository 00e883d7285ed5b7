"""Settings come from the environment; production mode passes `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_HOST", "DEBUG"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def _setting(module: str, expression: str, **env) -> str:
    code = (
        f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']={module!r}; django.setup(); "
        f"from django.conf import settings; print(repr(({expression})))"
    )
    result = _run(code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_embedded_default_is_sqlite_eager_tasks_and_file_emails():
    assert _setting("portal.settings.dev", "settings.DATABASES['default']['ENGINE']") == "'django.db.backends.sqlite3'"
    assert _setting("portal.settings.dev", "settings.CELERY_TASK_ALWAYS_EAGER") == "True"
    assert (
        _setting("portal.settings.dev", "settings.EMAIL_BACKEND")
        == "'django.core.mail.backends.filebased.EmailBackend'"
    )


def test_database_redis_and_email_from_the_environment():
    env = {
        "DATABASE_URL": "postgres://u:p@db.example:5433/portal",
        "REDIS_URL": "redis://cache.example:6380/1",
        "EMAIL_HOST": "mail.example",
        "EMAIL_PORT": "1025",
        "ALLOWED_HOSTS": "a.example, b.example",
        "DEBUG": "false",
    }
    expression = (
        "settings.DATABASES['default']['HOST'], settings.DATABASES['default']['PORT'], settings.CELERY_BROKER_URL, "
        "settings.CELERY_TASK_ALWAYS_EAGER, settings.EMAIL_BACKEND, settings.EMAIL_PORT, settings.ALLOWED_HOSTS, settings.DEBUG"
    )
    assert _setting("portal.settings.dev", expression, **env) == (
        "('db.example', 5433, 'redis://cache.example:6380/1', False, "
        "'django.core.mail.backends.smtp.EmailBackend', 1025, ['a.example', 'b.example'], False)"
    )


def test_production_requires_a_secret_key():
    result = _run(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings.production'; django.setup()"
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_check_deploy_reports_nothing():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env={
            # DJANGO_ALLOW_ASYNC_UNSAFE is set for the browser tests (tests/browser/conftest.py), never in production
            **{k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}},
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SECRET_KEY": "a-long-random-production-secret-key-for-the-check-0123456789-abcdefghij",
            "ALLOWED_HOSTS": "portal.example",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_test_suite_runs_on_postgresql(settings):
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
