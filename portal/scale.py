"""Bulk-insert helpers for `manage.py seed_scale` (development and load tests only).

`copy_insert` writes model instances with PostgreSQL's COPY (about ten times faster than
`bulk_create` for the million grant rows); other databases get `bulk_create`. Instances are
written as they are: `auto_now_add` is not applied, so the seed can spread timestamps.
`spread` gives deterministic timestamps over the past two years, so lists ordered by date see
realistic data instead of one instant.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import islice

from django.db import connection, models

CHUNK = 50_000
SPREAD_DAYS = 730


def spread(index: int, *, now: datetime, days: int = SPREAD_DAYS) -> datetime:
    """A timestamp within the last `days` days for row number `index` (deterministic, scattered)."""
    seconds = (index * 7_919_993) % (days * 86_400)
    return now - timedelta(seconds=seconds)


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "adapted"):  # psycopg2's Json wrapper of JSONField values
        value = json.dumps(value.adapted)
    elif isinstance(value, (dict, list)):
        value = json.dumps(value)
    elif isinstance(value, datetime):
        value = value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_insert(model: type[models.Model], objects: Iterable[models.Model]) -> int:
    """Insert unsaved instances of `model` (primary keys assigned by the database). Returns the count."""
    objects = iter(objects)
    if connection.vendor != "postgresql":
        total = 0
        while chunk := list(islice(objects, CHUNK)):
            model.objects.bulk_create(chunk, batch_size=2000)
            total += len(chunk)
        return total
    # generated columns (`Organization.search_name`) are the database's to write
    fields = [f for f in model._meta.concrete_fields if (not f.primary_key or not f.auto_created) and not f.generated]
    fields = [f for f in fields if not (f.primary_key and isinstance(f, models.AutoField))]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    total = 0
    with connection.cursor() as cursor:
        while chunk := list(islice(objects, CHUNK)):
            buffer = io.StringIO()
            for obj in chunk:
                values = (f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields)
                buffer.write("\t".join(_copy_value(v) for v in values))
                buffer.write("\n")
            buffer.seek(0)
            cursor.cursor.copy_expert(sql, buffer)  # psycopg2's cursor under Django's wrapper
            total += len(chunk)
    return total


def analyze(*models_: type[models.Model]) -> None:
    """Fresh planner statistics after a bulk load (autovacuum would get there, later)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
