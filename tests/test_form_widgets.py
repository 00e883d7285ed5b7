"""portal.templatetags.form_widgets: the select widget rendered in Python (issue 13) gives the
markup of Django's stock templates, escaping included."""

from __future__ import annotations

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from organizations.forms import OrganizationProfileForm


def _lines(markup: str) -> list[str]:
    """The markup's non-empty lines: the stock templates leave an empty line after each option."""
    return [line for line in markup.splitlines() if line.strip()]


def test_a_select_renders_as_the_stock_templates_with_every_value_escaped():
    widget = forms.Select(
        choices=[
            ("", "---------"),
            ("a&b", "A <b> & \"c\" 'd'"),
            ("Gruppe <1>", [(1, mark_safe("<i>safe</i>")), (2, "Zwei")]),
        ],
        attrs={"class": "form-select", "data-x": 'y"z'},
    )
    for value in ("a&b", 2, None):
        ours = widget.render("choice", value)  # the project's select.html, through select_options
        stock = widget.render("choice", value, renderer=DjangoTemplates())
        assert "&lt;b&gt;" in ours and "<i>safe</i>" in ours and "Gruppe &lt;1&gt;" in ours
        assert _lines(ours) == _lines(stock), value


def test_the_country_select_renders_as_the_stock_templates():
    field = OrganizationProfileForm(initial={"country": "DE"})["country"]
    ours = field.as_widget()
    stock = field.field.widget.render(field.html_name, "DE", attrs={"id": field.auto_id}, renderer=DjangoTemplates())
    assert '<option value="DE" selected>' in ours
    assert _lines(ours) == _lines(stock)
