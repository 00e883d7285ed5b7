"""Issue 12: background work as named Celery tasks fed by the outbox, one beat schedule, and failures
that mean what they say (`RetryLater`, `PermanentError`, anything else). Real PostgreSQL, Redis and
an in-process Celery worker; no mocks."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from celery.signals import task_prerun
from django.apps import apps
from django.conf import settings as django_settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from portal.celery import app
from portal.emails import email_enqueue_rendered
from portal.models import OutboxMessage
from portal.outbox import JOBS, PermanentError, RetryLater, outbox_enqueue, outbox_publish
from tests.test_outbox import FAILED_PAYLOADS, TEST_KIND, behaviour, wait_for

Status = OutboxMessage.Status


@pytest.fixture
def task_names_run():
    """The names of the Celery tasks that ran (in the worker thread or eagerly), in order."""
    names: list[str] = []

    def record(sender=None, **kwargs):
        names.append(sender.name)

    task_prerun.connect(record, weak=False)
    yield names
    task_prerun.disconnect(record)


def _row_settled(pk, status):
    return lambda: OutboxMessage.objects.get(pk=pk).status == status


# --- 12.1: a named task per job ------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_12_1_a_job_runs_in_the_worker_as_its_own_named_task(celery_live_worker, task_names_run):
    with transaction.atomic():
        message = email_enqueue_rendered(to="named@example.com", subject="Named", body="By name")
    assert wait_for(_row_settled(message.pk, Status.DONE))
    assert task_names_run == ["portal.tasks.email_send_rendered"]  # what Flower and the logs show
    assert [m.to for m in mail.outbox] == [["named@example.com"]]


@pytest.mark.django_db
def test_12_1_the_embedded_default_runs_the_named_task_in_process(
    settings, django_capture_on_commit_callbacks, task_names_run
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # `make run` without REDIS_URL
    with django_capture_on_commit_callbacks(execute=True):
        message = email_enqueue_rendered(to="eager@example.com", subject="Eager", body="In process")
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.DONE
    assert task_names_run == ["portal.tasks.email_send_rendered"]


def test_12_1_every_outbox_kind_is_a_task_declared_in_its_apps_tasks_module():
    app_modules = {config.name for config in apps.get_app_configs()}
    jobs = {kind: job for kind, job in JOBS.items() if kind != TEST_KIND}
    assert set(jobs) == {
        "email.send",
        "email.send_rendered",
        "organizations.invitation_email",
        "offers.deliver",
        "offers.bulk_send",
        "billing.invoice_deliver",
        "invoices.invoice_pdf",
        "invoices.invoice_reminder",
        "organizations.customer_export",
    }
    for job in jobs.values():
        package, module = job.handler.__module__.rsplit(".", 1)
        assert package in app_modules and module.endswith("tasks"), job
        assert job.task_name.startswith(f"{package}.") and job.task_name in app.tasks, job


@pytest.mark.django_db
def test_12_1_a_row_whose_kind_has_no_task_fails_at_publish_and_says_why(caplog):
    message = OutboxMessage.objects.create(kind="test.nobody-declares-this", secret_payload={"token": "t"})
    assert outbox_publish(message_id=message.pk) is False
    message.refresh_from_db()
    assert message.status == Status.FAILED and message.secret_payload == {}
    assert "No outbox task is declared for 'test.nobody-declares-this'" in message.last_error


# --- 12.3: one beat schedule -----------------------------------------------------------------------


def test_12_3_the_one_beat_schedule_is_the_settings_and_lists_every_periodic_job_by_task_name():
    schedule = app.conf.beat_schedule
    assert schedule == django_settings.CELERY_BEAT_SCHEDULE  # no app adds entries of its own
    assert {name: entry["task"] for name, entry in schedule.items()} == {
        task: task
        for task in (
            "portal.tasks.outbox_sweep",
            "portal.tasks.outbox_purge",
            "organizations.tasks.invitation_expire_due",
            "delegations.tasks.delegation_process_expiries",
            "billing.tasks.subscriptions_process_due",
            "billing.tasks.subscription_flags_refresh",
            "billing.tasks.subscription_flags_reconcile",
            "invoices.tasks.invoice_monthly_run",
            "invoices.tasks.dunning_run",
            "organizations.tasks.customer_export_purge",
        )
    }
    assert all(entry["task"] in app.tasks for entry in schedule.values())


# --- 12.2: failures mean what they say, through the real worker -------------------------------------


def _enqueue(name: str) -> OutboxMessage:
    with transaction.atomic():
        return outbox_enqueue(kind=TEST_KIND, payload={"behaviour": name})


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_12_2_retry_later_retries_after_its_own_delay_without_a_traceback(celery_live_worker, caplog):
    caplog.set_level(logging.INFO, logger="portal.outbox")

    def busy(payload):
        raise RetryLater("the receiver is busy", delay=timedelta(minutes=7))

    with behaviour("busy", busy):
        before = timezone.now()
        message = _enqueue("busy")
        assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).attempts == 1)
        assert wait_for(_row_settled(message.pk, Status.PENDING))
    row = OutboxMessage.objects.get(pk=message.pk)
    assert before + timedelta(minutes=7) <= row.available_at <= timezone.now() + timedelta(minutes=7)
    assert "the receiver is busy" in row.last_error and FAILED_PAYLOADS == []
    [record] = [r for r in caplog.records if r.name == "portal.outbox" and str(message.pk) in r.getMessage()]
    assert record.levelno == logging.INFO and record.exc_info is None and "retried in 420 s" in record.getMessage()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_12_2_a_permanent_error_fails_at_once_and_is_recorded(celery_live_worker, settings, caplog):
    settings.OUTBOX_MAX_ATTEMPTS = 5

    def refused(payload):
        raise PermanentError("the recipient does not exist")

    with behaviour("refused", refused):
        message = _enqueue("refused")
        assert wait_for(_row_settled(message.pk, Status.FAILED))
    row = OutboxMessage.objects.get(pk=message.pk)
    assert row.attempts == 1 and row.done_at is not None and "does not exist" in row.last_error
    assert FAILED_PAYLOADS == [{"behaviour": "refused"}]  # the job's on_failed ran once
    [record] = [r for r in caplog.records if r.name == "portal.outbox" and str(message.pk) in r.getMessage()]
    assert record.levelno == logging.ERROR and record.exc_info is None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_12_2_an_unexpected_error_is_logged_with_its_traceback_and_retried_with_backoff_up_to_the_limit(
    celery_live_worker, settings, caplog
):
    settings.OUTBOX_MAX_ATTEMPTS = 2

    def broken(payload):
        raise KeyError("a bug")

    with behaviour("broken", broken):
        before = timezone.now()
        message = _enqueue("broken")
        assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).attempts == 1)
        assert wait_for(_row_settled(message.pk, Status.PENDING))
        row = OutboxMessage.objects.get(pk=message.pk)
        # backoff after the first attempt: 5 s · 2¹
        assert before + timedelta(seconds=10) <= row.available_at <= timezone.now() + timedelta(seconds=10)
        assert FAILED_PAYLOADS == []
        # due again: the sweeper publishes it; the second attempt is the last
        OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
        from portal.outbox import outbox_sweep_due

        assert outbox_sweep_due() == 1
        assert wait_for(_row_settled(message.pk, Status.FAILED))
    row = OutboxMessage.objects.get(pk=message.pk)
    assert row.attempts == 2 and "a bug" in row.last_error
    assert FAILED_PAYLOADS == [{"behaviour": "broken"}]
    records = [r for r in caplog.records if r.name == "portal.outbox" and str(message.pk) in r.getMessage()]
    assert [r.levelno for r in records] == [logging.ERROR, logging.ERROR]
    assert all(r.exc_info and r.exc_info[0] is KeyError for r in records)
    assert "retried in 10 s" in records[0].getMessage() and "failed for good" in records[1].getMessage()
    assert 'raise KeyError("a bug")' in caplog.text  # the traceback, with the failing line
