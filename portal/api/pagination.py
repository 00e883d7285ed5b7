from django.db.models import Count, Window
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from portal.pagination import COUNT_CAP, capped_count


class PortalPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (at most 100) on every list."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class WindowCountPagination(PortalPagination):
    """`PortalPagination` (an exact `count`) for lists that stay short but whose restriction is
    costly to run twice: the `list` action reads its page and the total in one query (a window
    count) instead of the page and then a COUNT. Issue 13: the invoice list's restriction across
    orgs is a handful of EXISTS per row; the second pass was a third of a short list's time. Not
    for long lists (a window count reads every row of the list: use `CappedCountPagination`);
    other actions of the viewset (an invoice's 10,000 lines) paginate as usual."""

    def paginate_queryset(self, queryset, request, view=None):
        size = self.get_page_size(request)
        number = request.query_params.get(self.page_query_param) or "1"
        if getattr(view, "action", None) != "list" or not (size and number.isdigit() and int(number) >= 1):
            return super().paginate_queryset(queryset, request, view)
        offset = (int(number) - 1) * size
        rows = list(queryset.annotate(list_total=Window(Count("pk")))[offset : offset + size])
        if not rows and offset:
            return super().paginate_queryset(queryset, request, view)  # past the end: the usual 404
        paginator = self.django_paginator_class(queryset, size)
        paginator.count = rows[0].list_total if rows else 0  # known: saves the COUNT
        self.request = request
        self.page = paginator.page(int(number))
        self.page.object_list = rows  # read already
        return rows


class CappedCountPagination(PortalPagination):
    """`?page=`/`?page_size=` like every list, for lists that may reach 100,000 rows (issue 13):
    `count` is exact up to `portal.pagination.COUNT_CAP` and `null` beyond it (then `count_capped`
    is true); counting is skipped where the page already tells (a first page that is not full, a
    page past the cap). `next` comes from reading one row more than the page, so every page stays
    reachable without knowing the total."""

    cap = COUNT_CAP

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size_in_use = page_size = self.get_page_size(request)
        self.number = self._page_number(request, queryset, page_size, view)
        offset = (self.number - 1) * page_size
        rows = list(queryset[offset : offset + page_size + 1])
        self.has_next = len(rows) > page_size
        rows = rows[:page_size]
        if self.number > 1 and not rows:
            raise NotFound(self.invalid_page_message)
        seen = offset + len(rows) + (1 if self.has_next else 0)
        # a view whose selector counts from the user's side sets `capped_count` (rows up to cap + 1)
        counted = getattr(view, "capped_count", None)
        if not self.has_next:
            self.count = offset + len(rows)
        elif seen > self.cap:
            self.count = None
        else:
            counted = capped_count(queryset, self.cap) if counted is None else counted
            self.count = counted if counted <= self.cap else None
        return rows

    def _page_number(self, request, queryset, page_size: int, view) -> int:
        raw = request.query_params.get(self.page_query_param) or "1"
        if raw in self.last_page_strings:
            counted = getattr(view, "capped_count", None)
            counted = capped_count(queryset, self.cap) if counted is None else counted
            if counted > self.cap:  # the last page of a capped list is not known
                raise NotFound(self.invalid_page_message)
            return max(1, -(-counted // page_size))
        try:
            number = int(raw)
        except ValueError:
            raise NotFound(self.invalid_page_message) from None
        if number < 1:
            raise NotFound(self.invalid_page_message)
        return number

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_capped": self.count is None,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"] = {
            "type": "integer",
            "nullable": True,
            "example": 123,
            "description": f"Exact up to {self.cap}; null when there are more (then count_capped is true).",
        }
        response["properties"]["count_capped"] = {"type": "boolean", "example": False}
        return response

    def get_next_link(self):
        if not self.has_next:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.number + 1)

    def get_previous_link(self):
        if self.number <= 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)


class CappedIdsListMixin:
    """For a viewset whose `list` pages with `CappedCountPagination` a restriction that is costly to
    run (a partner Owner reaches 10,000 customer orgs, 20,000 subscriptions): one ordered read of
    the first cap + 1 ids is both the count (up to the cap) and every page within it, and the
    page's rows are then read by their ids (`page_rows`) without the restriction again.

    Issue 13: the list, its COUNT and its page each worked out the user's reach again (hashing a
    partner's 10,000 customer relations each time). Read on every page, so the number of queries
    never depends on the data; only a page past the cap reads its slice of the ids itself."""

    def page_rows(self, ids: list[int]) -> list:  # pragma: no cover - abstract
        """The page's rows for `ids` (read from the restricted list), in that order."""
        raise NotImplementedError

    def paginate_queryset(self, queryset):
        if getattr(self, "action", None) != "list":
            return super().paginate_queryset(queryset)
        keys = queryset.values_list("pk", flat=True)
        head = list(keys[: self.paginator.cap + 1])
        self.capped_count = len(head)
        source = head if self._page_within(head) else keys
        return self.page_rows(list(self.paginator.paginate_queryset(source, self.request, view=self)))

    def _page_within(self, head: list) -> bool:
        """Whether the page asked for (and the one row after it that tells `next`) lies in `head`."""
        if len(head) <= self.paginator.cap:
            return True  # the whole list
        raw = self.request.query_params.get(self.paginator.page_query_param) or "1"
        return raw.isdigit() and int(raw) * self.paginator.get_page_size(self.request) < len(head)
