"""Values every page's layout needs: the acting org, the menu, the switcher and the unread count."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class MenuItem:
    """One link of the organization menu. `current` lists URL-name prefixes that mark it as the
    page one is on; `not_current` the names that share a prefix but belong elsewhere."""

    url_name: str
    label: str
    capability: str | None = None
    current: tuple[str, ...] = ()
    not_current: tuple[str, ...] = ()
    badge: str | None = None  # a key of BADGES


@dataclass(frozen=True)
class MenuGroup:
    key: str
    label: str
    icon: str
    items: tuple[MenuItem, ...] = field(default_factory=tuple)


# Issue 16: thirteen flat links wrapped at 1366 px; grouped, the menu has at most six entries.
# A group the user can see one item of shows as a plain link (a customer's "Offers").
MENU: tuple[MenuGroup, ...] = (
    MenuGroup(
        "customers",
        _("Customers"),
        "building-office-2",
        (MenuItem("customer-list", _("Customers"), "customers.view", current=("customer",)),),
    ),
    MenuGroup(
        "requests",
        _("Open requests"),
        "inbox-arrow-down",
        (MenuItem("open-requests", _("Open requests"), "requests.view", current=("open-requests",), badge="requests"),),
    ),
    MenuGroup(
        "offers",
        _("Offers"),
        "document-text",
        (
            MenuItem(
                "offer-list", _("Offers"), "offers.view", ("offer-",), not_current=("offer-template",), badge="offers"
            ),
            MenuItem("offer-template-list", _("Offer templates"), "offer_templates.manage", ("offer-template",)),
        ),
    ),
    MenuGroup(
        "projects",
        _("Projects"),
        "folder",
        (
            MenuItem("organization-projects", _("Projects"), None, ("organization-projects",)),
            MenuItem("delegation-list", _("Caretakers"), "delegations.manage", ("delegation",)),
        ),
    ),
    MenuGroup(
        "billing",
        _("Subscriptions & invoices"),
        "credit-card",
        (
            MenuItem("subscription-list", _("Subscriptions"), "billing.view", ("subscription",)),
            MenuItem("invoice-list", _("Invoices"), "invoices.view", ("invoice",)),
            MenuItem("payment-method-list", _("Payment methods"), "payment_methods.manage", ("payment-method",)),
        ),
    ),
    MenuGroup(
        "organization",
        _("Organization"),
        "cog-6-tooth",
        (
            MenuItem("member-list", _("Members"), None, ("member", "invitation")),
            MenuItem("audit-trail", _("Audit trail"), "audit.view", ("audit-trail",)),
            MenuItem(
                "organization-profile",
                _("Settings"),
                "organization.change",
                ("organization",),
                not_current=("organization-dashboard", "organization-projects", "organization-switcher"),
            ),
        ),
    ),
)


def _open_requests(org_context) -> tuple[int, str]:
    from organizations.templatetags.organizations_tags import open_requests_count

    count = open_requests_count(org_context)
    return count, ngettext("%(counter)s waiting", "%(counter)s waiting", count) % {"counter": count}


def _offers_awaiting(org_context) -> tuple[int, str]:
    from offers.selectors import offers_awaiting_confirmation_count

    if org_context.organization.kind != "customer":
        return 0, ""
    count = offers_awaiting_confirmation_count(org_context)
    label = ngettext(
        "%(counter)s offer awaits your confirmation", "%(counter)s offers await your confirmation", count
    ) % {"counter": count}
    return count, label


BADGES = {"requests": _open_requests, "offers": _offers_awaiting}


def _is_current(item: MenuItem, url_name: str) -> bool:
    if not url_name or url_name in item.not_current or url_name.startswith(item.not_current or ("\0",)):
        return False
    return url_name.startswith(item.current) if item.current else False


def organization_menu(org_context, url_name: str = "", *, with_badges: bool = False) -> list[dict]:
    """The menu of the org in the URL: groups of links the acting role may open, each link with
    `current` and the key of its red badge (`badge_key`), each group with the keys of its links'.

    The page renders the menu with empty badge slots and htmx fills them from
    `organization-menu-badges` after load (`menu_badges`): the counts read other apps' tables,
    and every org page would wait for them (issue 13). `with_badges` adds `badge` (the count)
    and `badge_label` (its spoken form) to the links and `badge` (their sum) to the groups."""
    org = org_context.organization.public_id
    groups = []
    for group in MENU:
        links = []
        for item in group.items:
            if item.capability and not org_context.has(item.capability):
                continue
            link = {
                "label": item.label,
                "url": reverse(item.url_name, kwargs={"org": org}),
                "current": _is_current(item, url_name),
                "badge_key": item.badge or "",
            }
            if with_badges:
                link["badge"], link["badge_label"] = BADGES[item.badge](org_context) if item.badge else (0, "")
            links.append(link)
        if links:
            entry = {
                "key": group.key,
                "label": links[0]["label"] if len(links) == 1 else group.label,
                "icon": group.icon,
                "links": links,
                "current": any(link["current"] for link in links),
                "badge_keys": [link["badge_key"] for link in links if link["badge_key"]],
            }
            if with_badges:
                entry["badge"] = sum(link["badge"] for link in links)
            groups.append(entry)
    return groups


def menu_badges(org_context) -> dict:
    """The red badges of the menu: `links` maps a badge key to (count, spoken label), `groups` a
    dropdown group's key to the sum of its links' counts. Only what the acting role sees."""
    links, groups = {}, {}
    for group in organization_menu(org_context, with_badges=True):
        for link in group["links"]:
            if link["badge_key"]:
                links[link["badge_key"]] = (link["badge"], link["badge_label"])
        if group["badge_keys"] and len(group["links"]) > 1:
            groups[group["key"]] = group["badge"]
    return {"links": links, "groups": groups}


def organization_nav(org_context, url_name: str = "") -> str:
    """The org's navigation bar as HTML. Its markup depends only on what `_render_nav` takes
    (the org's identifier and name, the page, the language and the links the role may open), so
    it is rendered once per such combination and process instead of on every page (issue 13)."""
    menu = organization_menu(org_context, url_name)
    links = tuple(
        (
            group["key"],
            str(group["label"]),
            group["icon"],
            group["current"],
            tuple((str(link["label"]), link["url"], link["current"], link["badge_key"]) for link in group["links"]),
        )
        for group in menu
    )
    organization = org_context.organization
    return _render_nav(organization.public_id, organization.name, url_name, get_language(), links)


@lru_cache(maxsize=4096)
def _render_nav(public_id: str, name: str, url_name: str, language: str, links: tuple) -> str:
    menu = [
        {
            "key": key,
            "label": label,
            "icon": icon,
            "current": current,
            "badge_keys": [link[3] for link in group_links if link[3]],
            "links": [
                {"label": text, "url": url, "current": is_current, "badge_key": badge_key}
                for text, url, is_current, badge_key in group_links
            ],
        }
        for key, label, icon, current, group_links in links
    ]
    context = {"portal_menu": menu, "public_id": public_id, "name": name, "url_name": url_name}
    return mark_safe(render_to_string("portal/_orgnav.html", context))  # noqa: S308 - our template's output


def portal(request) -> dict:
    user = getattr(request, "user", None)
    org_context = getattr(request, "org_context", None)
    context = {
        "org_context": org_context,
        "portal_languages": settings.LANGUAGES,
        "unread_notifications": 0,
        "portal_nav": "",
    }
    if user is not None and user.is_authenticated:
        # One cheap COUNT on an indexed column; evaluated lazily by the template.
        context["unread_notifications"] = lambda: user.notifications.filter(read_at__isnull=True).count()
    if org_context is not None:
        match = getattr(request, "resolver_match", None)
        url_name = match.url_name if match else ""
        # Lazy: pages without the layout (htmx fragments, JSON) pay nothing for the menu.
        context["portal_nav"] = SimpleLazyObject(lambda: organization_nav(org_context, url_name or ""))
    return context
