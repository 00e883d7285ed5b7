"""Statements the ORM builds and compiles once per process, run with each call's own values.

Issue 13: a list page's hottest queries (the delegation overview's five tab counts, the customer
table's computed columns) cost more to build and compile with the ORM – resolving filters and
subqueries on every request – than to run. Their shape never changes, only a few values do (an
org, the current time, a page's ids). So they are compiled once with *stand-ins* for those
values, and each call puts its own values where the stand-ins ended up in the parameters:

    statement = CompiledStatement.compile(
        lambda organization, at: queryset_for(organization, at).query.sql_with_params(),
        using="default",
        organization=STAND_IN_ID,
        at=STAND_IN_MOMENT,
    )
    rows = statement.fetchall(organization=org.pk, at=timezone.now())

The ORM still writes the SQL (quoting, vendor differences, the same rules the lists use); only
its parameters are substituted. A stand-in that does not show up in the parameters (the shape
changed, or the value was inlined) raises at compile time, so tests catch it.

`CompiledQuery` does the same for a QuerySet of model instances (select_related and annotations
included) read a slice at a time: the list pages' rows.

`prepared=True` (PostgreSQL; elsewhere it has no effect) also keeps the *plan*: the statement is
prepared once per database connection (`PREPARE`, then `EXECUTE` with the call's values), so
after PostgreSQL's first five custom plans it may reuse a generic one instead of planning again
(issue 13: planning the project pages' one-row read took ten times its execution). Only for
statements whose best plan does not depend on the values, such as a row by a unique key: a
generic plan is the same for every user, also for the one with 100,000 grants. Prepared
statements live in the database session, so they do not suit a pooler in transaction mode
(README, "Production").
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

# Values no row, key or clock of the portal has.
STAND_IN_ID = -7_000_001
STAND_IN_MOMENT = datetime.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=datetime.UTC)


def stand_in_ids(count: int) -> list[int]:
    """`count` distinct stand-ins for a list of ids (a page's rows)."""
    return [STAND_IN_ID - 1 - index for index in range(count)]


@dataclass(frozen=True)
class _Slot:
    name: str
    index: int | None = None  # the position in a list value


@dataclass(frozen=True)
class CompiledStatement:
    sql: str
    slots: tuple  # a `_Slot` where a call's value goes, else the constant parameter itself
    using: str
    prepared: bool = False  # see the module's docstring

    @classmethod
    def compile(
        cls,
        build: Callable[..., tuple[str, Sequence]],
        *,
        using: str,
        partial: bool = False,
        prepared: bool = False,
        **stand_ins,
    ) -> CompiledStatement:
        """`build(**stand_ins)` returns the ORM's (sql, params); a stand-in is an int, an aware
        datetime, a list of ints (`stand_in_ids`) or a string no row has (a parameter verbatim).

        `partial`: the stand-ins are those of a family of statements, and one statement may
        need only some of them (a user's memberships, of which a statement reads the orgs only);
        a stand-in absent from the parameters is then allowed, but one written into the SQL (an
        inlined value the call could not replace) still raises."""
        sql, params = build(**stand_ins)
        adapt = connections[using].ops.adapt_datetimefield_value
        where: dict = {}
        for name, value in stand_ins.items():
            if isinstance(value, list):
                where.update({item: _Slot(name, index) for index, item in enumerate(value)})
            else:
                where[adapt(value) if isinstance(value, datetime.datetime) else value] = _Slot(name)
        slots = tuple(where.get(param, param) if _hashable(param) else param for param in params)
        missing = set(where.values()) - {slot for slot in slots if isinstance(slot, _Slot)}
        if partial:
            missing = {slot for value, slot in where.items() if _written_into(value, sql)}
        if missing:
            names = sorted({slot.name for slot in missing})
            raise RuntimeError(f"stand-ins {names} are not parameters of the compiled statement")
        return cls(sql, slots, using, prepared)

    def params(self, **values) -> list:
        adapt = connections[self.using].ops.adapt_datetimefield_value
        prepared = {
            name: adapt(value) if isinstance(value, datetime.datetime) else value for name, value in values.items()
        }

        def value_of(slot: _Slot):
            value = prepared[slot.name]
            return value if slot.index is None else value[slot.index]

        return [value_of(slot) if isinstance(slot, _Slot) else slot for slot in self.slots]

    def fetchall(self, **values) -> list[tuple]:
        return self.run(self.sql, self.params(**values))

    def run(self, sql: str, params: list) -> list[tuple]:
        """The rows of `sql` (this statement's SQL, or it with a clause added) for `params`."""
        wrapper = connections[self.using]
        with wrapper.cursor() as cursor:
            if self.prepared and wrapper.vendor == "postgresql":
                _execute_prepared(wrapper, cursor, sql, params)
            else:
                cursor.execute(sql, params)
            return cursor.fetchall()


def prepared_name(sql: str) -> str:
    """The name `sql` is prepared under (the same on every connection)."""
    return "portal_" + hashlib.blake2b(sql.encode(), digest_size=10).hexdigest()


def _execute_prepared(wrapper, cursor, sql: str, params: list) -> None:
    """`sql` prepared once per database connection under a name from its text, then executed."""
    name = prepared_name(sql)
    # the names prepared on this wrapper's current connection (a new connection has none)
    known = getattr(wrapper, "_portal_prepared", None)
    if known is None or known[0] is not wrapper.connection:
        known = wrapper._portal_prepared = (wrapper.connection, set())
    if name not in known[1]:
        numbers = iter(range(1, len(params) + 1))
        # the driver's placeholders %s become PostgreSQL's $1, $2, …; an escaped %% is a literal %
        text = re.sub(r"%[s%]", lambda match: f"${next(numbers)}" if match[0] == "%s" else "%", sql)
        # on the driver's own cursor: set-up of the connection, like Django's time zone, not a
        # query of the request (a page's query count stays the same on a new connection)
        with wrapper.connection.cursor() as driver_cursor:
            driver_cursor.execute(f"PREPARE {name} AS {text}")
        known[1].add(name)
    cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}", params)


def executed_sql(sql: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """The SQL text of a logged query: for `EXECUTE portal_…` the prepared statement's (from
    `pg_prepared_statements` of this connection), else `sql` itself. For tests and debugging."""
    if not sql.startswith("EXECUTE portal_"):
        return sql
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [sql.split()[1]])
        row = cursor.fetchone()
    return row[0].split(" AS ", 1)[1] if row else sql


@dataclass(frozen=True)
class CompiledQuery:
    """A QuerySet compiled once with stand-ins (`CompiledStatement`), read a slice at a time as
    the QuerySet's model instances – what iterating `build(**values)[low:high]` returns, without
    building the QuerySet again. `build` returns the QuerySet unsliced and ordered; the slice is
    the ORM's own LIMIT/OFFSET clause (`limit_offset_sql`), which ends a SELECT."""

    statement: CompiledStatement
    # the stand-in QuerySet's compiler: which columns make the instance, its related objects
    # (select_related) and its annotations, and the converters of the backend
    compiler: Any

    @classmethod
    def compile(
        cls,
        build: Callable[..., QuerySet],
        *,
        using: str,
        partial: bool = False,
        prepared: bool = False,
        **stand_ins,
    ) -> CompiledQuery:
        compilers = []

        def sql_of(**values):
            queryset = build(**values)
            if queryset.query.is_sliced or queryset.query.select_for_update:
                raise ValueError("compile the QuerySet unsliced and without select_for_update")
            compiler = queryset.query.get_compiler(using=using)
            compilers.append(compiler)
            return compiler.as_sql()  # also fills compiler.select, klass_info, annotation_col_map

        statement = CompiledStatement.compile(sql_of, using=using, partial=partial, prepared=prepared, **stand_ins)
        return cls(statement, compilers[0])

    def fetch(self, low: int = 0, high: int | None = None, **values) -> list:
        """The instances of rows `low` to `high` (exclusive; None: to the end)."""
        using = self.statement.using
        limit = connections[using].ops.limit_offset_sql(low, high)
        rows = self.statement.run(f"{self.statement.sql} {limit}".rstrip(), self.statement.params(**values))
        compiler = self.compiler
        klass_info, select = compiler.klass_info, compiler.select
        model, fields = klass_info["model"], klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        populators = get_related_populators(klass_info, select, using)
        objects = []
        for row in compiler.results_iter([rows]):  # the backend's converters, as the ORM applies them
            obj = model.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in compiler.annotation_col_map.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


def _written_into(value, sql: str) -> bool:
    if isinstance(value, int):
        return str(abs(value)) in sql
    return isinstance(value, str) and value in sql


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
