"""Explicit state machines with conditional updates.

Each stateful model declares `TRANSITIONS = {old_status: {new_status, ...}}` in one place. A
transition is one `UPDATE … SET status = new WHERE pk = … AND status IN (allowed old states)`, so
of two concurrent requests exactly one changes the row and the other gets a `Conflict`; a
retried task that finds the row already moved does nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from .errors import Conflict


def allowed_sources(model: type[models.Model], target: str) -> set[str]:
    """The states from which `target` may be reached according to the model's table."""
    return {source for source, targets in model.TRANSITIONS.items() if target in targets}


def transition(
    instance: models.Model,
    target: str,
    *,
    sources: set[str] | None = None,
    field: str = "status",
    **changes: Any,
) -> models.Model:
    """Move `instance` to `target` with a conditional UPDATE and refresh it.

    `sources` narrows the table's allowed sources (e.g. only `waiting_for_confirmation` may be
    accepted). Raises `Conflict` if the row is no longer in an allowed state: the caller lost a
    race or asked for a transition the table forbids.
    """
    model = type(instance)
    allowed = allowed_sources(model, target)
    if sources is not None:
        allowed &= set(sources)
    updated = model._default_manager.filter(pk=instance.pk, **{f"{field}__in": allowed}).update(
        **{field: target}, **changes
    )
    if updated != 1:
        instance.refresh_from_db()
        raise Conflict(
            _("This cannot be done now: the status is “%(status)s”.") % {"status": _display_status(instance, field)},
            code="invalid_transition",
        )
    instance.refresh_from_db()
    return instance


def _display_status(instance: models.Model, field: str) -> str:
    getter = getattr(instance, f"get_{field}_display", None)
    return str(getter() if getter else getattr(instance, field))
