"""The trigram indexes (portal/indexes.py) as PostgreSQL with pg_trgm gets them.

`make test`'s throwaway PostgreSQL has no contrib extensions, so `TrigramGinIndex` is a no-op
there and its SQL never reaches a server in CI. Without `django.contrib.postgres` installed, Django
rendered `USING gin ((UPPER("email") gin_trgm_ops))` – a syntax error that stopped `migrate` on
every PostgreSQL with pg_trgm (Debian's `postgresql-contrib`, the docker compose image). Pinned
here: the statement each of them would run, in the form PostgreSQL accepts."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib.postgres.indexes import GinIndex
from django.db import connection

from portal.indexes import TrigramGinIndex

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL index SQL"),
]

# an indexed expression in parentheses, or a plain column, then the operator class
ACCEPTED = re.compile(r'USING gin \((\([^;]*\)|"\w+") gin_trgm_ops\)$')


def trigram_indexes():
    return [
        pytest.param(model, index, id=index.name)
        for model in apps.get_models()
        for index in model._meta.indexes
        if isinstance(index, TrigramGinIndex)
    ]


def test_every_searched_model_has_its_trigram_index():
    names = {param.id for param in trigram_indexes()}
    assert {"organization_search_name_trgm", "invitation_email_trgm", "user_email_trgm"} <= names
    assert {"project_name_trgm", "project_number_trgm"} <= names


@pytest.mark.parametrize(("model", "index"), trigram_indexes())
def test_the_trigram_index_sql_is_what_postgresql_accepts(model, index):
    with connection.schema_editor(collect_sql=True) as editor:
        sql = str(GinIndex.create_sql(index, model, editor))  # what runs where pg_trgm is installed
    assert ACCEPTED.search(sql), sql
    assert "gin_trgm_ops))" not in sql, sql
