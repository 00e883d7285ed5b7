"""The shared pagination links keep the page's search and filters (portal/_pagination.html)."""

from django.template import Context, Template
from django.test import RequestFactory


def test_page_links_keep_every_query_parameter_but_the_page():
    request = RequestFactory().get("/o/X/customers/", {"q": "Kunde & Co", "status": "archived", "page": "2"})
    rendered = Template("{% load portal_tags %}{% page_query 3 %}").render(Context({"request": request}))
    assert rendered == "q=Kunde+%26+Co&amp;status=archived&amp;page=3"  # escaped once for the href
