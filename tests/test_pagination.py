"""The lists' pager (`{% pagination %}`, portal/templatetags/ui.py): its links keep the page's
search and filters, a second list on a page pages by its own parameter, and the totals read as
the reader's language writes them."""

import re

from django.core.paginator import Paginator
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation

from portal.pagination import CappedPaginator


def render(page, query=None, tag="{% pagination page %}"):
    request = RequestFactory().get("/o/X/customers/", query or {})
    return Template("{% load ui %}" + tag).render(Context({"request": request, "page": page}))


def links(html: str) -> dict[str, str]:
    """The pager's links by their text (or hidden label)."""
    found = {}
    for href, body in re.findall(r'<a class="page-link" href="([^"]*)"[^>]*>(.*?)</a>', html, re.S):
        label = re.sub(r"<svg.*?</svg>|<[^>]+>", "", body, flags=re.S).strip()
        found[label] = href
    return found


def test_page_links_keep_every_query_parameter_but_the_page():
    page = Paginator(range(100), 25).page(2)
    html = render(page, {"q": "Kunde & Co", "status": "archived", "page": "2"})
    assert links(html) == {
        "First page": "?q=Kunde+%26+Co&amp;status=archived&amp;page=1",  # escaped once for the href
        "Previous": "?q=Kunde+%26+Co&amp;status=archived&amp;page=1",
        "Next": "?q=Kunde+%26+Co&amp;status=archived&amp;page=3",
        "Last page": "?q=Kunde+%26+Co&amp;status=archived&amp;page=4",
    }
    assert 'rel="prev"' in html and 'rel="next"' in html
    assert '<span class="page-link">Page 2 of 4</span>' in html
    assert '<span class="pager-total">100 entries</span>' in html


def test_the_first_and_last_pages_link_only_onwards_or_back_and_one_page_has_no_pager():
    paginator = Paginator(range(30), 25)
    assert set(links(render(paginator.page(1)))) == {"Next", "Last page"}
    assert set(links(render(paginator.page(2)))) == {"First page", "Previous"}
    assert render(Paginator(range(3), 25).page(1)) == ""
    # a component passing a variable its page lacks (`{% data_table %}` without a list): no pager
    assert render(None, tag="{% pagination page_obj %}") == ""
    assert render(None, tag="{% pagination %}") == ""


def test_a_second_list_pages_by_its_own_parameter_and_leaves_the_first_lists_page():
    page = Paginator(range(60), 25).page(1)
    html = render(page, {"page": "7"}, tag='{% pagination page param="sections_page" %}')
    assert links(html)["Next"] == "?page=7&amp;sections_page=2"


def test_totals_in_german_and_a_capped_total():
    with translation.override("de"):
        html = render(Paginator(range(1200), 25).page(1))
        assert "Seite 1 von 48" in html and "1200 Einträge" in html.replace(".", "")
        capped = CappedPaginator(range(5000), 25, cap=1000, counted=1001).page(1)
        assert re.search(r'<span class="pager-total">[^<]*1\.000[^<]*</span>', render(capped)), render(capped)
    assert "more than 1,000 entries" in render(capped)
