"""The shared "Open requests" page (ORG-3, DLG-1): every app adds its section.

An app registers a section in its `AppConfig.ready()`:

    open_request_section(key="delegations", template="delegations/_open_requests.html",
                         context=selectors.delegation_open_requests_section,
                         count=selectors.delegation_requests_awaiting)

`context(org_context) -> dict` is rendered as `section` in `template`; `count(org_context) -> int`
is the number of requests waiting for a decision by this org (the badge in the navigation).
Each section runs a fixed number of queries, so the page does too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class OpenRequestSection:
    key: str
    template: str
    context: Callable
    count: Callable
    order: int = 100


_SECTIONS: dict[str, OpenRequestSection] = {}


def open_request_section(*, key: str, template: str, context: Callable, count: Callable, order: int = 100) -> None:
    """Register (or replace) the section `key` of the Open requests page."""
    _SECTIONS[key] = OpenRequestSection(key, template, context, count, order)


def open_request_sections() -> list[OpenRequestSection]:
    return sorted(_SECTIONS.values(), key=lambda section: (section.order, section.key))


def open_requests_awaiting(org_context) -> int:
    """Requests waiting for a decision by the org in `org_context`, over every section; counted once
    per request (the menu badge and the dashboard both show it)."""
    cache = org_context._cache
    if "open_requests" not in cache:
        cache["open_requests"] = sum(section.count(org_context) for section in open_request_sections())
    return cache["open_requests"]
