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
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
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

    @classmethod
    def compile(
        cls, build: Callable[..., tuple[str, Sequence]], *, using: str, partial: bool = False, **stand_ins
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
        return cls(sql, slots, using)

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
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, self.params(**values))
            return cursor.fetchall()


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
        cls, build: Callable[..., QuerySet], *, using: str, partial: bool = False, **stand_ins
    ) -> CompiledQuery:
        compilers = []

        def sql_of(**values):
            queryset = build(**values)
            if queryset.query.is_sliced or queryset.query.select_for_update:
                raise ValueError("compile the QuerySet unsliced and without select_for_update")
            compiler = queryset.query.get_compiler(using=using)
            compilers.append(compiler)
            return compiler.as_sql()  # also fills compiler.select, klass_info, annotation_col_map

        statement = CompiledStatement.compile(sql_of, using=using, partial=partial, **stand_ins)
        return cls(statement, compilers[0])

    def fetch(self, low: int = 0, high: int | None = None, **values) -> list:
        """The instances of rows `low` to `high` (exclusive; None: to the end)."""
        using = self.statement.using
        limit = connections[using].ops.limit_offset_sql(low, high)
        with connections[using].cursor() as cursor:
            cursor.execute(f"{self.statement.sql} {limit}".rstrip(), self.statement.params(**values))
            rows = cursor.fetchall()
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
