"""Reads for the organization dashboard (issue 16): one panel per thing a side should act on.

- Partner: customers by state, open requests, offers awaiting an answer, trials ending in the next
  14 days, offers whose delivery failed.
- Customer: getting started (a checklist while something is left), offers to answer, requests to
  answer, caretakers of its projects.
- Agency (an org that takes care of other orgs' projects): cared-for projects, releases ending in
  the next 14 days.

Every panel is a count and at most `PANEL_ITEMS` rows: one LIMITed query, and a COUNT only when
the rows fill the panel (`_rows_and_count`), through the owning app's selectors and the tenancy
restrictions – so the dashboard issues no more queries for 10,000 customers than for 3 (budget
test in organizations/tests/test_dashboard.py). Counts of things to act on stop at `COUNT_CAP`
("1,000+"): counting 50,000 waiting offers exactly would cost more than the rest of the page
(issue 13). Read-only: nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Exists, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import pagination
from portal.templatetags.ui import choice_label
from portal.tenancy import OrgContext, Scope, restrict

from .models import Invitation, Membership, Organization
from .roles import OrgKind

PANEL_ITEMS = 5
SOON = timedelta(days=14)
COUNT_CAP = pagination.COUNT_CAP  # a module attribute, so a test may lower it


def _rows_and_count(queryset) -> tuple[list, int, bool]:
    """The first `PANEL_ITEMS` rows of `queryset`, their total and whether it was capped: no COUNT
    when the rows don't fill the panel, else a COUNT over at most `COUNT_CAP` + 1 rows."""
    rows = list(queryset[:PANEL_ITEMS])
    if len(rows) < PANEL_ITEMS:
        return rows, len(rows), False
    count = pagination.capped_count(queryset, COUNT_CAP)
    return rows, min(count, COUNT_CAP), count > COUNT_CAP


@dataclass
class PanelItem:
    label: str
    url: str = ""
    detail: str = ""
    status: str = ""  # a status value for `{% status_badge %}` (its tone)
    status_label: str = ""
    until: object = None  # an inclusive end (shown with `|until`)
    moment: object = None  # a point in time (shown with `|moment`)
    done: bool | None = None  # checklist rows: done or still to do


@dataclass
class Panel:
    key: str
    title: str
    count: int
    items: list[PanelItem] = field(default_factory=list)
    more_url: str = ""
    more_label: str = ""
    empty_title: str = ""
    empty_text: str = ""  # what to do next
    empty_action_url: str = ""
    empty_action_label: str = ""
    count_label: str = ""  # spoken with the count ("3 waiting")
    kind: str = "list"  # "list", "counts" (state rows with numbers) or "checklist"
    capped: bool = False  # the count stopped at COUNT_CAP: shown as "1,000+"

    @property
    def count_text(self) -> str:
        counted = self.count + 1 if self.capped else self.count  # capped: `count` stopped at the cap
        return pagination.capped_label(counted, COUNT_CAP)


def _url(name: str, org: Organization, query: str = "", **kwargs) -> str:
    url = reverse(name, kwargs={"org": org.public_id, **kwargs})
    return f"{url}?{query}" if query else url


def _scope(context: OrgContext) -> Scope:
    return Scope(user=context.user, context=context)


def _outgoing_requests(context: OrgContext) -> tuple[list, int]:
    """This partner's connection requests waiting for the customer: the first rows and the count,
    read once per request (the customers panel and the requests panel both show them)."""
    from . import selectors

    cache = context._cache
    if "dashboard_outgoing" not in cache:
        queryset = selectors.connection_requests(context=context, direction="outgoing")
        rows, count, _capped = _rows_and_count(queryset)
        cache["dashboard_outgoing"] = (rows, count)
    return cache["dashboard_outgoing"]


# --- partner ----------------------------------------------------------------------------------


def _customers_by_state(context: OrgContext) -> Panel:
    from . import selectors

    organization = context.organization
    counts = selectors.customer_list(context=context, status="").aggregate(
        active=Count("pk", filter=Q(status=Organization.Status.ACTIVE)),
        archived=Count("pk", filter=Q(status=Organization.Status.ARCHIVED)),
    )
    _rows, requested = _outgoing_requests(context)
    rows = [
        PanelItem(
            _("Active"),
            _url("customer-list", organization, "status=active"),
            status="active",
            detail=str(counts["active"]),
        ),
        PanelItem(
            _("Connection requested"), _url("open-requests", organization), status="requested", detail=str(requested)
        ),
        PanelItem(
            _("Archived"),
            _url("customer-list", organization, "status=archived"),
            status="archived",
            detail=str(counts["archived"]),
        ),
    ]
    may_manage = context.has("customers.manage")
    return Panel(
        key="customers",
        title=_("Customers"),
        count=counts["active"],
        count_label=ngettext("active customer", "active customers", counts["active"]),
        items=rows,
        kind="counts",
        more_url=_url("customer-list", organization),
        more_label=_("All customers"),
        empty_title=_("No customers yet"),
        empty_text=_("Create a customer or connect an existing organization by its identifier."),
        empty_action_url=_url("customer-create", organization) if may_manage else "",
        empty_action_label=_("Create a customer") if may_manage else "",
    )


def _offer_panel(
    context: OrgContext,
    *,
    key: str,
    status: str,
    title: str,
    empty_title: str,
    empty_text: str,
    count_label,
    action: tuple[str, str] | None = None,
) -> Panel:
    from offers.models import Offer
    from offers.selectors import OfferFilters, offer_list

    organization = context.organization
    offers = offer_list(scope=_scope(context), filters=OfferFilters(status=status))
    rows, count, capped = _rows_and_count(offers)
    partner_side = organization.kind == OrgKind.PARTNER
    items = [
        PanelItem(
            label=offer.title,
            url=_url("offer-detail", organization, offer_id=offer.pk),
            detail=offer.customer.name if partner_side else offer.partner.name,
            status=offer.status,
            status_label=choice_label(Offer.Status, offer.status),
            moment=offer.created_at,
        )
        for offer in rows
    ]
    return Panel(
        key=key,
        title=title,
        count=count,
        capped=capped,
        count_label=count_label(count),
        items=items,
        more_url=_url("offer-list", organization, f"status={status}"),
        more_label=_("All offers"),
        empty_title=empty_title,
        empty_text=empty_text,
        empty_action_url=action[0] if action else "",
        empty_action_label=action[1] if action else "",
    )


def _trials_ending(context: OrgContext) -> Panel:
    from billing.models import Subscription
    from billing.selectors import subscription_list

    from . import selectors

    organization = context.organization
    now = timezone.now()
    customers = selectors.customer_list(context=context).order_by().values("pk")
    trials = subscription_list(
        queryset=Subscription.objects.filter(
            organization__in=customers, status=Subscription.Status.TRIAL, ends_at__gt=now, ends_at__lte=now + SOON
        )
    ).order_by("ends_at", "id")
    rows, trial_count, capped = _rows_and_count(trials)
    return Panel(
        key="trials",
        title=_("Trials ending in the next 14 days"),
        count=trial_count,
        capped=capped,
        count_label=ngettext("trial ending", "trials ending", trial_count),
        items=[
            PanelItem(
                label=trial.organization.name,
                url=_url("subscription-list", trial.organization),
                detail=trial.product.name,
                until=trial.ends_at,
            )
            for trial in rows
        ],
        more_url=_url("customer-list", organization),
        more_label=_("All customers"),
        empty_title=_("No trial ends in the next 14 days"),
        empty_text=_("Send an offer before a customer's trial ends, so their licences continue."),
    )


def _requests(context: OrgContext, *, title: str, empty_text: str) -> Panel:
    """Connection and caretaker requests waiting for this org (incoming) and, for a partner, its
    own connection requests waiting for the customer."""
    from delegations.models import Delegation
    from delegations.selectors import delegation_list

    from . import selectors
    from .open_requests import open_requests_awaiting

    organization = context.organization
    waiting = open_requests_awaiting(context)
    items: list[PanelItem] = []
    incoming_connections = (
        []
        if context.acting_as_partner
        else list(selectors.connection_requests(context=context, direction="incoming")[:PANEL_ITEMS])
    )
    for relation in incoming_connections:
        items.append(
            PanelItem(
                label=_("%(partner)s asks to become your reseller") % {"partner": relation.partner.name},
                url=_url("open-requests", organization),
                moment=relation.created_at,
            )
        )
    delegations = restrict(Delegation.objects.all(), _scope(context))
    for delegation in delegation_list(queryset=delegations, organization=organization, tab="incoming")[:PANEL_ITEMS]:
        items.append(
            PanelItem(
                label=_("%(caretaker)s asks to take care of %(project)s")
                % {"caretaker": delegation.caretaker.name, "project": delegation.requested_number},
                url=_url("open-requests", organization),
                moment=delegation.created_at,
            )
        )
    outgoing = 0
    if organization.is_partner and not context.acting_as_partner:
        outgoing_rows, outgoing = _outgoing_requests(context)
        for relation in outgoing_rows:
            items.append(
                PanelItem(
                    label=_("Waiting for %(customer)s to accept your connection request")
                    % {"customer": relation.customer.name},
                    url=_url("open-requests", organization),
                    moment=relation.created_at,
                )
            )
    items.sort(key=lambda item: item.moment, reverse=True)
    return Panel(
        key="requests",
        title=title,
        count=waiting + outgoing,
        count_label=ngettext("open request", "open requests", waiting + outgoing),
        items=items[:PANEL_ITEMS],
        more_url=_url("open-requests", organization),
        more_label=_("Open requests"),
        empty_title=_("No open requests"),
        empty_text=empty_text,
    )


def _offers_awaiting(context: OrgContext) -> Panel:
    from offers.models import Offer

    send = (
        (_url("offer-template-list", context.organization), _("Send an offer from a template"))
        if context.has("offers.send")
        else None
    )
    return _offer_panel(
        context,
        key="offers_awaiting",
        status=Offer.Status.WAITING_FOR_CONFIRMATION,
        title=_("Offers awaiting an answer"),
        count_label=lambda n: ngettext("offer awaiting an answer", "offers awaiting an answer", n),
        empty_title=_("No offer is waiting for an answer"),
        empty_text=_("Offers you send wait here until the customer accepts or declines."),
        action=send,
    )


def _failed_deliveries(context: OrgContext) -> Panel:
    from offers.models import Offer

    return _offer_panel(
        context,
        key="failed_deliveries",
        status=Offer.Status.DELIVERY_FAILED,
        title=_("Failed deliveries"),
        count_label=lambda n: ngettext("offer not delivered", "offers not delivered", n),
        empty_title=_("Every offer was delivered"),
        empty_text=_("An offer that cannot be delivered shows here; open it to send it again or withdraw it."),
    )


def _offers_to_answer(context: OrgContext) -> Panel:
    from offers.models import Offer

    return _offer_panel(
        context,
        key="offers_to_answer",
        status=Offer.Status.WAITING_FOR_CONFIRMATION,
        title=_("Offers to answer"),
        count_label=lambda n: ngettext("offer to answer", "offers to answer", n),
        empty_title=_("No offer waits for your answer"),
        empty_text=_("When your partner sends an offer, you accept or decline it here."),
    )


def _open_requests_panel(context: OrgContext) -> Panel:
    if context.organization.kind == OrgKind.PARTNER:
        return _requests(
            context,
            title=_("Open requests"),
            empty_text=_("Connection requests you send and requests by caretakers appear here."),
        )
    return _requests(
        context,
        title=_("Requests to answer"),
        empty_text=_("Requests by a partner to connect or by an agency to take care of a project appear here."),
    )


# --- customer ---------------------------------------------------------------------------------


def _getting_started(context: OrgContext) -> Panel | None:
    """Three first steps with a link each; `None` once all are done (or for who can't act on them)."""
    from offers.models import Offer

    organization = context.organization
    if not (context.has("organization.change") or context.has("members.invite")):
        return None
    others = Membership.objects.filter(organization=organization).exclude(user=context.user)
    invitations = Invitation.objects.filter(organization=organization)
    answered = restrict(Offer.objects.all(), _scope(context)).filter(
        status__in=[Offer.Status.ACCEPTED, Offer.Status.DECLINED]
    )
    flags = (
        Organization.objects.filter(pk=organization.pk)
        .annotate(
            has_others=Exists(others),
            has_invitations=Exists(invitations),
            has_answered=Exists(answered),
            has_subscriptions=Exists(_subscriptions_of(organization)),
        )
        .values("has_others", "has_invitations", "has_answered", "has_subscriptions")
        .get()
    )
    profile_done = bool(organization.street and organization.postcode and organization.city and organization.country)
    steps = [
        PanelItem(
            label=_("Complete your organization's address"),
            detail=_("Your address appears on offers and invoices."),
            url=_url("organization-profile", organization) if context.has("organization.change") else "",
            done=profile_done,
        ),
        PanelItem(
            label=_("Invite your colleagues"),
            detail=_("Give them their own accounts instead of sharing yours."),
            url=_url("invitation-create", organization) if context.has("members.invite") else "",
            done=flags["has_others"] or flags["has_invitations"],
        ),
        PanelItem(
            label=_("Answer your first offer"),
            detail=_("Accept an offer from your partner to start a subscription."),
            url=_url("offer-list", organization),
            done=flags["has_answered"] or flags["has_subscriptions"],
        ),
    ]
    done = sum(1 for step in steps if step.done)
    if done == len(steps):
        return None
    return Panel(
        key="getting_started",
        title=_("Getting started"),
        count=done,
        count_label=_("of %(total)s steps done") % {"total": len(steps)},
        items=steps,
        kind="checklist",
    )


def _subscriptions_of(organization: Organization):
    from billing.models import Subscription

    # Whether the org holds any subscription at all (a yes/no for the checklist, no amounts):
    # read without the partner-only billing capability on purpose (ORG-6 hides prices, not this).
    return Subscription.objects.filter(organization=organization).exclude(source=Subscription.Source.TRIAL)


def _caretakers(context: OrgContext) -> Panel:
    from delegations.models import Delegation
    from delegations.selectors import delegation_list

    organization = context.organization
    delegations = restrict(Delegation.objects.all(), _scope(context))
    rows, count, capped = _rows_and_count(
        delegation_list(queryset=delegations, organization=organization, tab="released")
    )
    return Panel(
        key="caretakers",
        title=_("Caretakers"),
        count=count,
        capped=capped,
        count_label=ngettext("project with a caretaker", "projects with a caretaker", count),
        items=[
            PanelItem(
                label=delegation.caretaker.name,
                url=_url("delegation-detail", organization, delegation_id=delegation.pk),
                detail=f"{delegation.project.number} {delegation.project.name}" if delegation.project_id else "",
                status=delegation.current_status,
                status_label=choice_label(Delegation.Status, delegation.current_status),
                until=delegation.ends_at,
            )
            for delegation in rows
        ],
        more_url=_url("delegation-list", organization, "tab=released"),
        more_label=_("All caretakers"),
        empty_title=_("No caretaker yet"),
        empty_text=_("Let an agency take care of a project: release it to the agency's email address."),
        empty_action_url=_url("delegation-list", organization, "tab=released"),
        empty_action_label=_("Caretakers"),
    )


# --- agency -----------------------------------------------------------------------------------


def _managed(context: OrgContext):
    from delegations.models import Delegation
    from delegations.selectors import delegation_list

    return delegation_list(
        queryset=restrict(Delegation.objects.all(), _scope(context)), organization=context.organization, tab="managed"
    )


def _care_rows(context: OrgContext, delegations) -> list[PanelItem]:
    return [
        PanelItem(
            label=f"{delegation.project.number} {delegation.project.name}",
            url=_url("delegation-detail", context.organization, delegation_id=delegation.pk),
            detail=delegation.organization.name,
            until=delegation.ends_at,
        )
        for delegation in delegations
    ]


def _cared_for(context: OrgContext) -> Panel | None:
    """Shown to an org that takes care of other orgs' projects (it has a managed project)."""
    rows, count, capped = _rows_and_count(_managed(context))
    if not count:
        return None
    return Panel(
        key="cared_for",
        title=_("Projects you take care of"),
        count=count,
        capped=capped,
        count_label=ngettext("project in your care", "projects in your care", count),
        items=_care_rows(context, rows),
        more_url=_url("delegation-list", context.organization, "tab=managed"),
        more_label=_("All managed projects"),
        empty_title=_("No project in your care"),
        empty_text=_("A customer releases a project to you, or you request one by its number."),
    )


def _releases_ending(context: OrgContext) -> Panel | None:
    managed = _managed(context)
    if not managed.exists():
        return None
    ending = managed.filter(ends_at__isnull=False, ends_at__lte=timezone.now() + SOON)
    rows, count, capped = _rows_and_count(ending)
    return Panel(
        key="releases_ending",
        title=_("Releases ending in the next 14 days"),
        count=count,
        capped=capped,
        count_label=ngettext("release ending", "releases ending", count),
        items=_care_rows(context, rows),
        more_url=_url("delegation-list", context.organization, "tab=managed"),
        more_label=_("All managed projects"),
        empty_title=_("No release ends in the next 14 days"),
        empty_text=_("Ask the customer in time to extend a release you still need."),
    )


# --- the dashboard ------------------------------------------------------------------------------


# Each panel's reader; it answers None where the panel has nothing to say to this org (first
# steps all done, no project in its care).
PANELS = {
    "customers": _customers_by_state,
    "getting_started": _getting_started,
    "requests": _open_requests_panel,
    "offers_awaiting": _offers_awaiting,
    "offers_to_answer": _offers_to_answer,
    "failed_deliveries": _failed_deliveries,
    "trials": _trials_ending,
    "caretakers": _caretakers,
    "cared_for": _cared_for,
    "releases_ending": _releases_ending,
}


def dashboard_panel_keys(context: OrgContext) -> list[str]:
    """The panels this user may see on this org's dashboard, in order – decided by role and org
    kind alone (no query), so the page can lay them out and load each on its own (issue 13)."""
    keys = []
    if context.organization.kind == OrgKind.PARTNER:
        if context.has("customers.view"):
            keys.append("customers")
        if context.has("requests.view"):
            keys.append("requests")
        if context.has("offers.view"):
            keys += ["offers_awaiting", "failed_deliveries"]
        if context.has("billing.view") and context.has("customers.view"):
            keys.append("trials")
    else:
        if context.has("organization.change") or context.has("members.invite"):
            keys.append("getting_started")
        if context.has("offers.view"):
            keys.append("offers_to_answer")
        if context.has("requests.view"):
            keys.append("requests")
        if context.has("delegations.manage"):
            keys.append("caretakers")
    if context.has("delegations.manage"):
        keys += ["cared_for", "releases_ending"]
    return keys


def dashboard_panel(context: OrgContext, key: str) -> Panel | None:
    """One panel of the dashboard; None where it has nothing to say to this user – also where the
    role does not show it (the page never asks for it; an empty answer tells nothing more).
    `KeyError` for a key that is no panel at all."""
    reader = PANELS[key]
    if key not in dashboard_panel_keys(context):
        return None
    return reader(context)


def dashboard_panels(context: OrgContext) -> list[Panel]:
    """Every panel of the org in `context` for this user, in the order they are shown."""
    panels = (PANELS[key](context) for key in dashboard_panel_keys(context))
    return [panel for panel in panels if panel is not None]
