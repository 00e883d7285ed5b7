"""Time-based expiry: a stored status that reads as `expired` once a date has passed.

Invitations (ORG-5), delegations (DLG-5/6) and subscriptions (BIL-2) keep their stored status
until a periodic job records the expiry, yet every read must already see it. Each model says
*when* it expires as data – `EXPIRES_WHEN`, pairs of (stored statuses, date field) – and this
module derives the rest from that one rule:

- `status_at(at)` / `current_status` on an instance,
- `with_current_status(at)` (an annotation for showing it), `due_to_expire(at)` (the rows the
  job records), `open(at)` (in `OPEN_STATUSES` and not past its time) and `current_status_q`
  (filter by the current status) on the queryset.

Filters use the stored columns only (no computed CASE in WHERE), so the `(status, <date>)`
indexes serve them.

`at` comes from Python (not the database clock), so a frozen clock in tests and the services'
own notion of "now" agree.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone


class ExpiringStatusQuerySet(models.QuerySet):
    def _expiry_rules(self):
        return self.model.EXPIRES_WHEN

    def _rule_qs(self, at) -> list[Q]:
        """One Q per rule: its statuses, and its date has passed at `at`."""
        return [Q(status__in=statuses, **{f"{field}__lte": at}) for statuses, field in self._expiry_rules()]

    def expired_q(self, at) -> Q:
        """Q: the stored status is one that expires and its date has passed at `at`."""
        return reduce(or_, self._rule_qs(at))

    def with_current_status(self, at=None):
        """Annotate `current_status`: the stored status, or `expired` where its time has passed."""
        at = at or timezone.now()
        return self.annotate(
            current_status=Case(
                *(When(rule, then=Value(self.model.Status.EXPIRED)) for rule in self._rule_qs(at)),
                default=F("status"),
                output_field=models.CharField(),
            )
        )

    def live_q(self, at) -> Q:
        """Q: no expiry rule applies at `at` (the negation of `expired_q`, NULL dates never expire)."""
        live = Q()
        for statuses, field in self._expiry_rules():
            live &= ~Q(status__in=statuses) | Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": at})
        return live

    def current_status_q(self, statuses, at) -> Q:
        """Q on the stored columns: the current status (as `with_current_status` computes it) is in `statuses`."""
        expired_status = self.model.Status.EXPIRED
        q = Q(status__in=[status for status in statuses if status != expired_status]) & self.live_q(at)
        if expired_status in statuses:
            q |= Q(status=expired_status) | self.expired_q(at)
        return q

    def open(self, at=None):
        """Stored as open (`OPEN_STATUSES`) and not past its time."""
        return self.filter(self.current_status_q(self.model.OPEN_STATUSES, at or timezone.now()))

    def due_to_expire(self, at=None):
        """Rows still stored as open although their time has passed (the periodic job records them)."""
        return self.filter(self.expired_q(at or timezone.now()))


class ExpiringStatus(models.Model):
    """Mixin of a model whose `status` becomes `Status.EXPIRED` when a date passes.

    The model defines `Status` (with `EXPIRED`), `OPEN_STATUSES` and `EXPIRES_WHEN`, e.g.
    `EXPIRES_WHEN = (((Status.PENDING,), "respond_by"), ((Status.PENDING, Status.ACTIVE), "ends_at"))`.
    Querysets annotated by `with_current_status()` set `current_status` directly.
    """

    EXPIRES_WHEN: tuple[tuple[tuple[str, ...], str], ...] = ()

    objects = ExpiringStatusQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def current_status(self) -> str:
        """The status as of now."""
        if "current_status" in self.__dict__:
            return self.__dict__["current_status"]
        return self.status_at(timezone.now())

    @current_status.setter
    def current_status(self, value: str) -> None:
        self.__dict__["current_status"] = value

    def status_at(self, at) -> str:
        for statuses, field in self.EXPIRES_WHEN:
            ends = getattr(self, field)
            if self.status in statuses and ends is not None and ends <= at:
                return self.Status.EXPIRED
        return self.status

    def get_current_status_display(self) -> str:
        return str(self.Status(self.current_status).label)

    @property
    def is_open(self) -> bool:
        return self.current_status in self.OPEN_STATUSES

    def refresh_from_db(self, *args, **kwargs):
        self.__dict__.pop("current_status", None)  # recomputed from the fresh row
        super().refresh_from_db(*args, **kwargs)
