"""BIL-5 on real PostgreSQL: two concurrent runs keep numbers gapless and issue each invoice once."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from invoices.models import Invoice, InvoiceNumberCounter
from invoices.services import issuing

from .factories import customer, issue, line


def _run_concurrently(*jobs):
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def worker(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


@pytest.fixture
def slow_lock(monkeypatch):
    """Hold the counter lock a moment, so the second run surely waits on it.

    The year's counter row exists beforehand: otherwise the INSERT … ON CONFLICT creating it would
    serialise the runs by itself and the test would not notice a missing row lock."""
    InvoiceNumberCounter.objects.create(year=timezone.localdate().year, last_number=0)
    original = issuing._lock_counter

    def locking_slowly(year):
        counter = original(year)
        time.sleep(0.3)
        return counter

    monkeypatch.setattr(issuing, "_lock_counter", locking_slowly)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_over_the_same_recipients_issue_once_and_gapless(slow_lock):
    assert connection.vendor == "postgresql"
    recipients = [customer(name=f"Kunde {n} GmbH") for n in range(6)]
    lines = [line(recipient) for recipient in recipients]

    first, second = _run_concurrently(lambda: issue(*lines), lambda: issue(*lines))

    assert sorted([len(first), len(second)]) == [0, 6]  # the waiting run found everything issued
    assert Invoice.objects.count() == 6
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert InvoiceNumberCounter.objects.get().last_number == 6


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_over_different_recipients_share_one_gapless_sequence(slow_lock):
    left = [customer(name=f"Links {n} GmbH") for n in range(4)]
    right = [customer(name=f"Rechts {n} GmbH") for n in range(5)]

    first, second = _run_concurrently(
        lambda: issue(*[line(recipient) for recipient in left]),
        lambda: issue(*[line(recipient) for recipient in right]),
    )

    assert sorted([len(first), len(second)]) == [4, 5]
    numbers = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert numbers == list(range(1, 10))
    # Each run got one contiguous block: the lock serialised them.
    for batch in (first, second):
        sequences = sorted(invoice.sequence for invoice in batch)
        assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
    assert InvoiceNumberCounter.objects.get().last_number == 9
