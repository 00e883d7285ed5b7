"""Pagination whose cost does not grow with the list (issue 13).

An exact total of a list reaching 100,000 rows costs as much as reading them all (a user with
100,000 project grants: ~300 ms for the COUNT alone). `CappedPaginator` counts at most
`cap` + 1 rows: the total is exact up to `cap`, beyond it the list says "more than `cap`"
(`capped`), and only the first `cap` rows are paged – a deep OFFSET would again read everything
before it. Search and filters narrow a long list instead.
"""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 1000


def capped_label(counted: int, cap: int = COUNT_CAP) -> str:
    """A count read up to `cap` + 1 rows (`capped_count`) as text: the number in the reader's
    format, or "1,000+" beyond the cap – never a number that looks exact when it is not."""
    return f"{intcomma(cap)}+" if counted > cap else intcomma(counted)


def capped_count(queryset, cap: int = COUNT_CAP) -> int:
    """The number of rows of `queryset`, but at most `cap` + 1: `SELECT COUNT(*) FROM (SELECT pk …
    LIMIT cap + 1)`, no ordering, no annotations (they are not selected)."""
    if hasattr(queryset, "values"):
        return queryset.order_by().values("pk")[: cap + 1].count()
    return min(len(queryset), cap + 1)


class CappedPaginator(Paginator):
    """`Paginator` with the total counted up to `cap` (`count`, `num_pages` cover at most `cap`
    rows); `capped` is True when there are more. Templates show "more than {{ cap }}" then."""

    def __init__(self, *args, cap: int = COUNT_CAP, counted: int | None = None, **kwargs):
        """`counted`: the rows already counted up to `cap` + 1 by the caller (a selector that
        counts from the user's side, e.g. `projects.selectors.project_count`)."""
        super().__init__(*args, **kwargs)
        self.cap = cap
        self._given_count = counted

    @cached_property
    def _counted(self) -> int:
        if self._given_count is not None:
            return self._given_count
        return capped_count(self.object_list, self.cap)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap
