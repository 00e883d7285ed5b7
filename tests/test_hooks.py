"""Issue 12 item 4: hooks are registered one way – `@on(event)` on the function (portal/hooks.py)."""

import inspect

from portal.hooks import _HOOKS, EVENTS


def test_12_4_every_hook_is_registered_by_the_on_decorator_on_its_function():
    registered = [(event, func) for event in EVENTS for func in _HOOKS[event]]
    assert {event for event, _ in registered} == EVENTS  # every event has a receiver
    for event, func in registered:
        first_line = inspect.getsourcelines(func)[0][0].strip()
        assert first_line == f'@on("{event}")', f"{func.__module__}.{func.__qualname__}"
