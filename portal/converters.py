"""Ids in URLs: `<id:offer_id>` for pages, `portal.api.viewsets` checks the API's id kwargs with the same rule.

Every primary key is a `BigAutoField` (a signed 64-bit integer on PostgreSQL and SQLite). A value
outside that range, or anything but digits, is no id of ours: the URL does not match (404)
instead of reaching a query, where SQLite raises OverflowError and PostgreSQL a DataError.
"""

from __future__ import annotations

import re

from django.urls import register_converter

MAX_ID = 2**63 - 1
ID_REGEX = r"[0-9]{1,19}"
_ID = re.compile(ID_REGEX)


def parse_id(value) -> int | None:
    """The id as an int, or None when `value` is not an id within the database's range."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _ID.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 0 <= number <= MAX_ID else None


class IdConverter:
    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(f"not an id: {value!r}")  # Django: no match, try the next pattern (404)
        return number

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")
