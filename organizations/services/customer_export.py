"""Issue 16: exports of the partner's customer table, prepared by the worker.

A request only stores what to export (`CustomerExport`: format, the table's query string, the
visible columns) and queues the job; the job re-resolves the requester's access (the same tenancy
scope as the page: the partner org and the user's reach there, ORG-11) at the time it runs,
writes the file to private storage and marks the export done. The file leaves the server only
through `CustomerExportDownloadView` (requester only). `customer_export_purge` deletes exports
after `CUSTOMER_EXPORT_RETENTION_DAYS`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import tablib
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.errors import InvalidInput, NotFound
from portal.outbox import outbox_enqueue
from portal.tenancy import org_context_for_organization

from ..models import CustomerExport, Organization
from ..tables import customer_table

logger = logging.getLogger(__name__)

EXPORT_KIND = "organizations.customer_export"
EXPORT_MAX_ROWS = 50_000
# The table's own parameters; everything else in a posted query string is dropped.
QUERY_KEYS = ("q", "status", "staff", "has_trial", "has_subscription", "sort", "columns", "col")


def customer_export_start(*, context, export_format: str, query: QueryDict, columns: list[str]) -> CustomerExport:
    """Store the export and queue its job (after commit). Cheap: two INSERTs, no rows read."""
    context.require("customers.view")
    if export_format not in CustomerExport.Format.values:
        raise InvalidInput(_("Choose CSV or XLSX."), field="export")
    kept = QueryDict(mutable=True)
    for key in QUERY_KEYS:
        values = [value[:200] for value in query.getlist(key)[:50]]
        if values:
            kept.setlist(key, values)
    with transaction.atomic():
        export = CustomerExport.objects.create(
            organization=context.organization,
            requested_by=context.user,
            format=export_format,
            query=kept.urlencode(),
            columns=list(columns),
        )
        outbox_enqueue(kind=EXPORT_KIND, payload={"export_id": export.pk}, dedupe_key=f"customer-export-{export.pk}")
    return export


def _fail(export_id: int) -> None:
    CustomerExport.objects.filter(pk=export_id, status=CustomerExport.Status.PENDING).update(
        status=CustomerExport.Status.FAILED, finished_at=timezone.now()
    )


def customer_export_job(payload: dict) -> None:
    """The export job (outbox `organizations.customer_export`): the rows the requester may see
    now, in the table's order and columns, written once to private storage."""
    export = (
        CustomerExport.objects.select_related("organization", "requested_by")
        .filter(pk=payload["export_id"], status=CustomerExport.Status.PENDING)
        .first()
    )
    if export is None:
        return  # done already (a repeated delivery) or purged
    user, organization = export.requested_by, export.organization
    try:
        if not user.is_active or organization.status != Organization.Status.ACTIVE:
            raise NotFound("")
        context = org_context_for_organization(user, organization)
    except NotFound:
        context = None
    if context is None or not context.has("customers.view"):
        logger.info("Customer export %s refused: the requester no longer reaches the customer list", export.pk)
        _fail(export.pk)
        return
    with translation.override(user.language):
        filterset, table = customer_table(context, QueryDict(export.query), columns=export.columns)
        if not filterset.is_valid():
            _fail(export.pk)
            return
        rows = table.export_rows(table.data.data)
        dataset = tablib.Dataset(title=str(_("Customers")))
        dataset.headers = next(rows)
        for row in rows:
            if dataset.height >= EXPORT_MAX_ROWS:
                _fail(export.pk)
                return
            dataset.append(row)
        content = dataset.export(export.format)
    if isinstance(content, str):
        content = content.encode("utf-8")
    export.file.save(export.filename, ContentFile(content), save=False)
    finished = CustomerExport.objects.filter(pk=export.pk, status=CustomerExport.Status.PENDING).update(
        status=CustomerExport.Status.DONE,
        file=export.file.name,
        row_count=dataset.height,
        finished_at=timezone.now(),
    )
    if not finished:  # another delivery of the same job won; keep only its file
        export.file.storage.delete(export.file.name)


def customer_export_failed(payload: dict) -> None:
    """The job gave up after its attempts: the page says so instead of waiting for ever."""
    _fail(payload["export_id"])


def customer_export_purge(*, now=None, batch: int = 500) -> int:
    """Delete exports (rows and files) older than `CUSTOMER_EXPORT_RETENTION_DAYS`."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CUSTOMER_EXPORT_RETENTION_DAYS)
    deleted = 0
    while True:
        old = list(CustomerExport.objects.filter(created_at__lt=cutoff).values_list("pk", "file")[:batch])
        if not old:
            return deleted
        for _pk, name in old:
            if name:
                CustomerExport._meta.get_field("file").storage.delete(name)
        deleted += CustomerExport.objects.filter(pk__in=[pk for pk, _name in old]).delete()[0]
