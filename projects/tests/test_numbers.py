"""PRJ-1: globally unique project numbers `p-<digits>`, also under concurrent creation (PostgreSQL)."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection

from projects.models import Project
from projects.services import project_create
from tests import factories


@pytest.mark.django_db
def test_numbers_have_the_documented_form_and_are_never_reused():
    organization = factories.OrganizationFactory()
    first = project_create(organization=organization, name="First")
    assert re.fullmatch(r"p-\d{5,}", first.number)
    assert Project.objects.get(pk=first.pk).number == first.number
    first.delete()
    second = project_create(organization=organization, name="Second")
    assert second.number != first.number
    assert int(second.number[2:]) > int(first.number[2:])


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gives_distinct_numbers():
    assert connection.vendor == "postgresql"
    organizations = [factories.OrganizationFactory(), factories.OrganizationFactory()]
    threads_count, per_thread = 8, 5
    barrier = threading.Barrier(threads_count)
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def create(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for round_ in range(per_thread):
                project = project_create(organization=organizations[index % 2], name=f"Thread {index}.{round_}")
                with lock:
                    numbers.append(project.number)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(numbers) == threads_count * per_thread
    assert len(set(numbers)) == len(numbers)
    stored = list(Project.objects.values_list("number", flat=True))
    assert sorted(stored) == sorted(numbers) and None not in stored
