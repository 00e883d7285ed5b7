"""Browser pages of delegations (DLG-1 … DLG-3): thin adapters around one service call each."""

from __future__ import annotations

from html import escape

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, ListView
from django.views.generic.detail import SingleObjectMixin

from portal.errors import DomainError, InvalidInput, NotFound, TooManyRequests
from portal.pagination import COUNT_CAP, CappedPaginator, capped_label
from portal.templatetags.ui import choice_label, day, status_badge, until, url_around
from portal.tenancy import restrict
from portal.views import DomainErrorActionMixin, DomainErrorFormMixin, OrgScopedMixin
from projects.models import Project

from . import selectors, services
from .forms import DelegationAcceptForm, DelegationReleaseForm, DelegationRequestForm, ReleaseAcceptForm, end_of_day
from .models import Delegation, DelegationRequesterBlock
from .selectors import (
    TABS,
    TabRows,
    delegation_actions_offered,
    delegation_caretaker_choices,
    delegation_tab_counts,
)
from .templatetags.delegations_tags import ended_on, project_label, project_organization_label


def _overview_url(org, tab: str | None = None) -> str:
    url = reverse("delegation-list", kwargs={"org": org.public_id})
    return f"{url}?{urlencode({'tab': tab})}" if tab else url


class DelegationOverviewView(OrgScopedMixin, ListView):
    """DLG-3: open requests incoming and outgoing, released projects, managed projects, history."""

    model = Delegation
    capability = "delegations.manage"
    template_name = "delegations/overview.html"
    paginate_by = 25

    paginator_class = CappedPaginator

    def get_queryset(self):
        # The tabs' counts and rows are what `delegation_restrict` shows this org in its context
        # (`delegation_sides_q`), each read by a statement compiled once (issue 13).
        organization = self.org.organization
        # each tab counted up to TAB_COUNT_CAP + 1 (issue 13: an agency's 30,000 rows are not read)
        self.counts = delegation_tab_counts(organization=organization)
        requested = self.request.GET.get("tab", "")
        if requested in TABS:
            self.tab = requested
        else:  # the first tab with something in it
            self.tab = next(
                (tab for tab in ("incoming", "released", "managed", "outgoing") if self.counts[tab]), "incoming"
            )
        return TabRows(organization=organization, tab=self.tab)

    def get_paginator(self, *args, **kwargs):
        # The tab's count is known when it is below the badge's cap; a longer tab is counted on up
        # to COUNT_CAP (pages reach as far as that), by the same compiled statement as the badges.
        counted = self.counts[self.tab]
        if counted > selectors.TAB_COUNT_CAP:
            counted = delegation_tab_counts(organization=self.org.organization, cap=COUNT_CAP, tabs=(self.tab,))[
                self.tab
            ]
        return super().get_paginator(*args, counted=counted, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tabs"] = [
            {
                "key": key,
                "label": label,
                "count": capped_label(self.counts[key], selectors.TAB_COUNT_CAP),
                "url": _overview_url(self.org.organization, key),
            }
            for key, label in TABS.items()
        ]
        context["tab"] = self.tab
        context["tab_label"] = TABS[self.tab]
        context["offered"] = delegation_actions_offered(self.org)
        context["is_empty"] = not self.counts[self.tab]
        context["customer_column_tabs"], context["caretaker_column_tabs"] = CUSTOMER_COLUMN_TABS, CARETAKER_COLUMN_TABS
        context["table_body"] = overview_body(context["object_list"], self.org, self.tab)
        return context


# The overview's columns by tab (the header in the template shows the same ones).
CUSTOMER_COLUMN_TABS = {"outgoing", "managed", "ended"}
CARETAKER_COLUMN_TABS = {"incoming", "released", "ended"}


def overview_body(delegations, org_context, tab: str) -> str:
    """The overview's <tr>s, built in one pass with every value escaped on the way in: a template
    loop with a URL, a badge, two dates and two side-dependent labels per row cost about 40 µs a
    row, and a `reverse` per row 30 µs more (issue 13; as the customer table, organizations/tables.py)."""
    public_id = org_context.organization.public_id
    url_start, url_end = url_around("delegation-detail", "delegation_id", 7_000_001, org=public_id)
    shown_once_accepted, until_revoked = escape(_("shown once accepted")), escape(_("until revoked"))
    badges = {}
    html = []
    for delegation in delegations:
        status = delegation.current_status
        if status not in badges:
            badges[status] = status_badge(status, choice_label(Delegation.Status, status))
        cells = [
            f'<td><a href="{url_start}{delegation.pk}{url_end}">{escape(project_label(delegation, org_context))}</a></td>'
        ]
        if tab in CUSTOMER_COLUMN_TABS:
            customer = project_organization_label(delegation, org_context)
            cells.append(f"<td>{escape(customer) if customer else shown_once_accepted}</td>")
        if tab in CARETAKER_COLUMN_TABS:
            caretaker = delegation.caretaker.name if delegation.caretaker_id else delegation.invited_email or ""
            cells.append(f"<td>{escape(caretaker)}</td>")
        cells.append(f"<td>{badges[status]}</td>")
        cells.append(f"<td>{escape(until(delegation.ends_at)) if delegation.ends_at else until_revoked}</td>")
        cells.append(f"<td>{escape(ended_on(delegation) if tab == 'ended' else day(delegation.created_at))}</td>")
        html.append("<tr>" + "".join(cells) + "</tr>\n")
    return mark_safe("".join(html))  # noqa: S308 - every value was escaped above


class DelegationRequestView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """DLG-1: the caretaker asks for one project by its number."""

    capability = "delegations.manage"
    form_class = DelegationRequestForm
    template_name = "delegations/request_form.html"

    retry_after: int | None = None

    def perform(self, form):
        try:
            return services.delegation_request(
                context=self.org,
                project_number=form.cleaned_data["project_number"],
                message=form.cleaned_data["message"],
                actor=self.request.user,
            )
        except TooManyRequests as error:
            self.retry_after = error.retry_after
            raise

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if self.retry_after:  # 429 with Retry-After, like the API
            response.status_code = 429
            response["Retry-After"] = str(self.retry_after)
        return response

    # The same words whether the project exists or not (issue 11, item 3).
    success_message = gettext_lazy(
        "Your request was recorded. If a project with this number exists, its organization decides on it."
    )

    def get_success_url(self, delegation=None):
        return _overview_url(self.org.organization, "outgoing")


class DelegationReleaseView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """DLG-2: the project's org releases projects to a caretaker's email address."""

    capability = "delegations.manage"
    form_class = DelegationReleaseForm
    template_name = "delegations/release_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        # the org's projects the user sees there, by the role already resolved for this org
        # (the cross-org restriction would build every access path of the user, issue 13)
        kwargs["projects"] = restrict(Project.objects.filter(status=Project.Status.ACTIVE), self.scope).order_by(
            "name", "id"
        )
        return kwargs

    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("project"):
            initial["projects"] = [self.request.GET["project"]]
        return initial

    def perform(self, form):
        return services.delegation_release(
            context=self.org,
            project_numbers=[project.number for project in form.cleaned_data["projects"]],
            email=form.cleaned_data["email"],
            ends_at=end_of_day(form.cleaned_data["ends_at"]),
            message=form.cleaned_data["message"],
            actor=self.request.user,
        )

    success_message = gettext_lazy("The caretaker receives an email with a link to accept.")

    def get_success_url(self, delegations=None):
        return _overview_url(self.org.organization, "released")


class DelegationDetailView(OrgScopedMixin, DetailView):
    model = Delegation
    capability = "delegations.manage"
    pk_url_kwarg = "delegation_id"
    template_name = "delegations/detail.html"
    context_object_name = "delegation"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .with_current_status()
            .select_related("project", "organization", "caretaker", "requested_by", "decided_by", "ended_by")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        delegation = self.object
        side = delegation.side_of(self.org.organization)
        pending = delegation.current_status == Delegation.Status.PENDING
        incoming_request = pending and delegation.direction == Delegation.Direction.REQUEST and side == "project"
        context.update(
            side=side,
            revealed=delegation.revealed_to(self.org.organization),
            can_decide=incoming_request and self.org.has("requests.decide"),
            # Partner staff acting inside: the decision is the customer's own (issue 11, item 4).
            consent_note=incoming_request and self.org.consent_withheld("requests.decide"),
            can_cancel=pending and side == delegation.initiator_side,
            can_revoke=delegation.current_status == Delegation.Status.ACTIVE,
            accept_form=DelegationAcceptForm(),
        )
        return context


class DelegationActionView(OrgScopedMixin, DomainErrorActionMixin, SingleObjectMixin, View):
    """POST one transition; a refused one (409/400) becomes a message on the detail page, or on
    the page the button was on (`next`, e.g. the "Open requests" page)."""

    model = Delegation
    pk_url_kwarg = "delegation_id"
    follow_next = True

    def get_queryset(self):
        return super().get_queryset().select_related("project", "organization", "caretaker")

    def get_success_url(self, delegation) -> str:
        return reverse(
            "delegation-detail", kwargs={"org": self.org.organization.public_id, "delegation_id": delegation.pk}
        )


class DelegationAcceptView(DelegationActionView):
    capability = "requests.decide"

    def perform(self, delegation):
        form = DelegationAcceptForm(self.request.POST)
        if not form.is_valid():
            raise InvalidInput(_("Enter a valid date."), field="ends_at")
        self.success_message = _("Accepted. The caretaker now takes care of the project.")
        services.delegation_accept(
            delegation=delegation,
            context=self.org,
            actor=self.request.user,
            ends_at=end_of_day(form.cleaned_data["ends_at"]),
        )


class DelegationDeclineView(DelegationActionView):
    capability = "requests.decide"

    def perform(self, delegation):
        self.success_message = _("Declined.")
        services.delegation_decline(delegation=delegation, context=self.org, actor=self.request.user)


class DelegationBlockView(DelegationActionView):
    """Block the requester of an incoming request (issue 11, item 3)."""

    capability = "requests.decide"

    def perform(self, delegation):
        self.success_message = _(
            "The requester is blocked. Its pending requests were declined; later ones reach you no more."
        )
        services.delegation_block_requester(delegation=delegation, context=self.org, actor=self.request.user)


class DelegationUnblockView(OrgScopedMixin, SingleObjectMixin, View):
    """Lift a block (listed on the Open requests page)."""

    model = DelegationRequesterBlock
    pk_url_kwarg = "block_id"
    capability = "requests.decide"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        block = self.get_object()
        services.delegation_unblock_requester(block=block, context=self.org, actor=request.user)
        messages.success(request, _("The requester is no longer blocked."))
        return redirect("open-requests", org=self.org.organization.public_id)


class DelegationCancelView(DelegationActionView):
    capability = "delegations.manage"

    def perform(self, delegation):
        self.success_message = _("Withdrawn.")
        services.delegation_cancel(delegation=delegation, context=self.org, actor=self.request.user)


class DelegationRevokeView(DelegationActionView):
    capability = "delegations.manage"

    def perform(self, delegation):
        self.success_message = _("The delegation has ended.")
        services.delegation_revoke(delegation=delegation, context=self.org, actor=self.request.user)


class ReleaseAcceptView(LoginRequiredMixin, View):
    """DLG-2: the link in the release email. Only its addressee sees what was released."""

    template_name = "delegations/release_accept.html"

    def _render(self, request, delegations, form, status=200):
        pending = [d for d in delegations if d.current_status == Delegation.Status.PENDING]
        context = {"delegations": delegations, "pending": pending, "form": form, "release": delegations[0]}
        return render(request, self.template_name, context, status=status)

    def _load(self, request, token):
        try:
            return services.release_delegations_for_token(token=token, user=request.user)
        except NotFound as error:
            return render(request, "delegations/release_invalid.html", {"error": error}, status=404)

    def _form(self, request, data=None):
        return ReleaseAcceptForm(data, organizations=delegation_caretaker_choices(user=request.user))

    def get(self, request, token):
        delegations = self._load(request, token)
        if not isinstance(delegations, list):
            return delegations
        return self._render(request, delegations, self._form(request))

    def post(self, request, token):
        delegations = self._load(request, token)
        if not isinstance(delegations, list):
            return delegations
        if request.POST.get("decision") == "decline":
            try:
                services.delegation_release_decline(token=token, user=request.user)
            except DomainError as error:
                messages.error(request, error.message)
                return redirect("delegation-release-accept", token=token)
            messages.success(request, _("You declined. The project's organization has been told."))
            return redirect("home")
        form = self._form(request, request.POST)
        if not form.is_valid():
            return self._render(request, delegations, form, status=400)
        caretaker = form.cleaned_data["organization"]
        try:
            services.delegation_release_accept(token=token, user=request.user, caretaker=caretaker)
        except DomainError as error:
            form.add_error("organization" if error.field == "organization" else None, error.message)
            return self._render(request, delegations, form, status=error.status)
        messages.success(request, _("Accepted. Your organization now takes care of the released projects."))
        return redirect(_overview_url(caretaker, "managed"))
