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
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import connections

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
    def compile(cls, build: Callable[..., tuple[str, Sequence]], *, using: str, **stand_ins) -> CompiledStatement:
        """`build(**stand_ins)` returns the ORM's (sql, params); a stand-in is an int, an aware
        datetime or a list of ints (`stand_in_ids`)."""
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


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
