"""Named hooks between apps that must not import each other.

An app that owns an event calls `run_hooks("offer.accepted", …)` inside its service's
transaction; another app declares what follows by decorating the service function with
`@on("offer.accepted")`. Hooks run synchronously in the same transaction, so both happen or
neither. This is a small explicit registry, not Django signals: every event name is listed here.

One way to register: the `@on` decorator on the function, never `on(…)(func)` in
`AppConfig.ready()`. The decorator sits where a reader of the function needs it: that the function
is called by another app, inside that app's transaction, is what one must know before changing it
(`@shared_task`, `@outbox_task` and `@receiver` declare work the same way). `ready()` only imports
the module. A hook must not depend on the order in which hooks of the same event run.

Events (keyword arguments):
- "organization.created": organization, actor – after a new org exists (billing starts the trial, BIL-2)
- "customer_relation.activated": relation, actor – a customer connected to a reseller (accepted request
  or support's connection; billing moves the payer from the next period on, BIL-8)
- "customer_relation.ended": relation, actor – a reseller relation ended (billing ends partner-booked
  subscriptions, ORG-3)
- "organization.archived": organization, actor – a linked customer org was archived (ORG-7)
- "offer.accepted": offer_id, partner, customer, items, actor – an offer was accepted (OFR-6); `items`
  is a list of dicts {"item_id", "product_id", "quantity", "term_months", "license_mode" ("absolute" |
  "relative"), "ends_on" (date or None), "unit_price" (Decimal, the partner's selling price)}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

EVENTS = {
    "organization.created",
    "customer_relation.activated",
    "customer_relation.ended",
    "organization.archived",
    "offer.accepted",
}
_HOOKS: dict[str, list[Callable]] = defaultdict(list)


def on(event: str):
    if event not in EVENTS:
        raise ValueError(f"Unknown hook event {event!r}; add it to portal.hooks.EVENTS")

    def register(func: Callable) -> Callable:
        if func not in _HOOKS[event]:
            _HOOKS[event].append(func)
        return func

    return register


def run_hooks(event: str, **kwargs) -> None:
    if event not in EVENTS:
        raise ValueError(f"Unknown hook event {event!r}")
    for func in list(_HOOKS[event]):
        func(**kwargs)
