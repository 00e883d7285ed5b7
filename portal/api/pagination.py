from rest_framework.pagination import PageNumberPagination


class PortalPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (at most 100) on every list."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
