"""Trigram (pg_trgm) indexes for `icontains` searches (issue 13), where the database has them.

`UPPER(col) LIKE '%…%'` – what `icontains` compiles to on PostgreSQL – is served by a GIN index
on `UPPER(col) gin_trgm_ops`. pg_trgm is a contrib extension: the migrations create it where the
server ships it (`TrigramExtensionWhereAvailable`), and `TrigramGinIndex` is a no-op elsewhere
(SQLite, the embedded default of `make run`): the searches work without it, only slower.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import TrigramExtension


def trigram_installed(connection) -> bool:
    """pg_trgm is installed in this database (PostgreSQL with the contrib extensions)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


# what the schema editor runs instead where the index cannot exist (it executes any statement given)
NO_INDEX = "SELECT 1"


class TrigramGinIndex(GinIndex):
    """A pg_trgm GIN index where the database has pg_trgm; elsewhere (SQLite, the embedded
    default of `make run`; a PostgreSQL without the contrib extensions) a no-op statement: the
    search it serves works without it, only slower (see migration projects 0003)."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if not trigram_installed(schema_editor.connection):
            return NO_INDEX
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):
        if not trigram_installed(schema_editor.connection):
            return NO_INDEX
        return super().remove_sql(model, schema_editor, **kwargs)


class TrigramExtensionWhereAvailable(TrigramExtension):
    """pg_trgm where the server ships it (PostgreSQL with contrib); nothing elsewhere. It is a
    trusted extension: the database owner may create it. Without it the trigram indexes
    are not created and the search scans (see README "Database")."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
            if cursor.fetchone() is None:
                return
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        """Keep the extension: other objects may use it."""
