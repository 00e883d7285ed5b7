"""Browser pages of projects and project roles (PRJ-1 to PRJ-4).

Two kinds of pages:
- inside an org (`/o/<org>/projects/…`): `portal.views.OrgScopedMixin`, covered by the generic
  organization isolation tests;
- of one project (`/projects/<number>/…`) and the list across orgs (`/projects/`): the project
  is resolved for the user before any handler runs (`ProjectScopedMixin`): anonymous → login,
  a project the user may not see → 404, a visible project without the action → 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from portal.errors import DomainError
from portal.pagination import COUNT_CAP, CappedPaginator
from portal.views import DomainErrorFormMixin, OrgScopedMixin, UserScopedMixin

from . import services
from .forms import ProjectDeleteForm, ProjectForm, ProjectMemberAddForm, ProjectMemberChangeForm, day_of_end
from .models import Project, ProjectRoleGrant
from .roles import ProjectAction
from .selectors import (
    ProjectFilters,
    allowed_actions_of,
    organizations_with_projects_for_user,
    project_for_user_with_context,
    project_grants,
    project_page,
    project_require,
)

PAGE_SIZE = 25


# --- lists -------------------------------------------------------------------------------------


class _ProjectListMixin:
    """Both project lists are `selectors.project_page` (the API's too): the view only reads the
    filters and renders."""

    model = Project
    paginate_by = PAGE_SIZE
    template_name = "projects/project_list.html"

    def get_queryset(self) -> QuerySet:
        self.filters = ProjectFilters.from_params(self.request.GET, search_param="q")
        # the total up to 1,000, counted from the user's side (issue 13)
        self.project_page = project_page(scope=self.scope, filters=self.filters, cap=COUNT_CAP)
        return self.project_page.queryset

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kwargs):
        return CappedPaginator(
            queryset,
            per_page,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
            cap=COUNT_CAP,
            counted=self.project_page.count,
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["search"] = self.filters.search
        return context


class ProjectListView(_ProjectListMixin, UserScopedMixin, ListView):
    """`/projects/`: every project the user may see, across orgs (caretaker projects marked);
    `?organization=` an org the user neither reaches nor sees projects of is a 404. The list is
    restricted once, by `project_page` (before UserScopedMixin, whose `get_queryset` would restrict
    it a second time: the access filter twice in one query)."""

    ORGANIZATION_CHOICES_LIMIT = 100

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # A select for the usual case; a partner with thousands of customers types the identifier.
        context["organization_choices"] = self._listed_organization(
            context["object_list"]
        ) or organizations_with_projects_for_user(
            user=self.request.user,
            limit=self.ORGANIZATION_CHOICES_LIMIT,
            memberships=self.project_page.memberships,
            grants_over_limit=self.project_page.grants_over_cap,
            reached_org_ids=self.project_page.reached_org_ids,
            grant_org_ids=self.project_page.grant_org_ids,
            reads=self.project_page.reads,
        )
        context["selected_organization"] = self.filters.organization
        context["show_organization"] = True
        return context

    def _listed_organization(self, rows) -> list | None:
        """The org filter read from the page itself where that is the same answer: the unfiltered
        list fits on this page, all of it in one org, and the user's role reaches no partner's
        customers (whose number alone may turn the select into the identifier field). Most grantees
        see a project or two: two queries fewer (issue 13). Else None."""
        page = self.project_page
        if page.reaches_customers or page.direct_orgs > self.ORGANIZATION_CHOICES_LIMIT:
            return None
        if self.filters != ProjectFilters() or self.project_page.count > PAGE_SIZE:
            return None
        organizations = {project.organization_id: project.organization for project in rows}
        return list(organizations.values()) if len(organizations) == 1 else None


class OrganizationProjectListView(OrgScopedMixin, _ProjectListMixin, ListView):
    """`/o/<org>/projects/`: the projects of one org the user may see."""

    capability = "organization.view"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_create"] = self.org.has("projects.create")
        return context


class ProjectCreateView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """`/o/<org>/projects/new/`: create a project in the org (capability "projects.create")."""

    capability = "projects.create"
    form_class = ProjectForm
    template_name = "projects/project_form.html"
    success_message = gettext_lazy("The project was created.")

    def perform(self, form):
        return services.project_create(
            organization=self.org.organization,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            created_by=self.request.user,
        )

    def get_success_url(self, project=None):
        return reverse("project-detail", kwargs={"number": project.number})


# --- pages of one project ----------------------------------------------------------------------


class ProjectScopedMixin(LoginRequiredMixin):
    """Resolves `self.project` from `<number>` for the user, then requires the method's action.

    `project_actions` maps each HTTP method to the project action it needs (the role table in
    `projects.roles` decides); the generic cross-org isolation tests read it.
    """

    project_actions: dict[str, str] = {"GET": ProjectAction.VIEW}
    project: Project

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        # with the org context of the project's org (None: the user acts there only through
        # project roles): it shows the org's navigation to those who may act in the org itself
        self.project, org_context = project_for_user_with_context(user=request.user, number=kwargs["number"])
        method = "GET" if request.method.upper() == "HEAD" else request.method.upper()
        action = self.project_actions.get(method)
        if action is None:
            return self.http_method_not_allowed(request, *args, **kwargs)
        project_require(user=request.user, project=self.project, action=action)
        request.org_context = org_context
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["project"] = self.project
        context["allowed_actions"] = allowed_actions_of(self.project)
        return context

    @property
    def detail_url(self) -> str:
        return reverse("project-detail", kwargs={"number": self.project.number})


class ProjectDetailView(ProjectScopedMixin, TemplateView):
    template_name = "projects/project_detail.html"


class ProjectUpdateView(ProjectScopedMixin, DomainErrorFormMixin, FormView):
    project_actions = {"GET": ProjectAction.CHANGE, "POST": ProjectAction.CHANGE}
    form_class = ProjectForm
    template_name = "projects/project_form.html"
    success_message = gettext_lazy("The project was saved.")

    def get_initial(self):
        return {"name": self.project.name, "description": self.project.description}

    def perform(self, form):
        return services.project_update(
            project=self.project,
            actor=self.request.user,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
        )

    def get_success_url(self, project=None):
        return self.detail_url


class ProjectArchiveView(ProjectScopedMixin, View):
    """POST: archive the project (read-only from then on)."""

    project_actions = {"POST": ProjectAction.DELETE}

    def post(self, request, number):
        services.project_archive(project=self.project, actor=request.user)
        messages.success(request, _("The project was archived."))
        return redirect(self.detail_url)


class ProjectRestoreView(ProjectScopedMixin, View):
    """POST: make an archived project active again."""

    project_actions = {"POST": ProjectAction.DELETE}

    def post(self, request, number):
        services.project_restore(project=self.project, actor=request.user)
        messages.success(request, _("The project is active again."))
        return redirect(self.detail_url)


class ProjectDeleteView(ProjectScopedMixin, DomainErrorFormMixin, FormView):
    project_actions = {"GET": ProjectAction.DELETE, "POST": ProjectAction.DELETE}
    form_class = ProjectDeleteForm
    template_name = "projects/project_confirm_delete.html"
    success_message = gettext_lazy("The project was deleted.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "project": self.project}

    def perform(self, form):
        services.project_delete(project=self.project, actor=self.request.user)

    def get_success_url(self, result=None):
        return reverse("project-list")


# --- members and their roles -------------------------------------------------------------------


class ProjectMembersView(ProjectScopedMixin, DomainErrorFormMixin, FormView):
    """`/projects/<number>/members/`: who holds which role, and granting roles by email (PRJ-3)."""

    project_actions = {"GET": ProjectAction.MANAGE_MEMBERS, "POST": ProjectAction.MANAGE_MEMBERS}
    form_class = ProjectMemberAddForm
    template_name = "projects/project_members.html"
    # The same answer whether or not the address already had an account (PRJ-3).
    success_message = gettext_lazy("The role was granted. We sent an email to the address with a link to the project.")

    def perform(self, form):
        return services.project_member_add(
            project=self.project,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            expires_at=form.expires_at,
            language=form.cleaned_data["language"],
            actor=self.request.user,
        )

    def get_success_url(self, result=None):
        return reverse("project-members", kwargs={"number": self.project.number})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = Paginator(project_grants(project=self.project), PAGE_SIZE).get_page(self.request.GET.get("page"))
        for grant in page.object_list:
            grant.valid_until_day = day_of_end(grant.expires_at)
        context.update(page_obj=page, grants=page.object_list, is_paginated=page.has_other_pages())
        return context


class _GrantMixin(ProjectScopedMixin):
    project_actions = {"POST": ProjectAction.MANAGE_MEMBERS}

    @cached_property
    def grant(self) -> ProjectRoleGrant:
        return get_object_or_404(
            ProjectRoleGrant.objects.select_related("user", "organization", "project__organization"),
            pk=self.kwargs["grant_id"],
            project=self.project,
        )

    def members_url(self) -> str:
        return reverse("project-members", kwargs={"number": self.project.number})


class ProjectMemberChangeView(_GrantMixin, DomainErrorFormMixin, FormView):
    """`/projects/<number>/members/<grant_id>/`: change the role or its end date."""

    project_actions = {"GET": ProjectAction.MANAGE_MEMBERS, "POST": ProjectAction.MANAGE_MEMBERS}
    form_class = ProjectMemberChangeForm
    template_name = "projects/project_member_change.html"
    success_message = gettext_lazy("The role was changed.")

    def get_initial(self):
        return {"role": self.grant.role, "valid_until": day_of_end(self.grant.expires_at)}

    def perform(self, form):
        return services.project_member_change(
            grant=self.grant, role=form.cleaned_data["role"], expires_at=form.expires_at, actor=self.request.user
        )

    def get_success_url(self, result=None):
        return self.members_url()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "grant": self.grant}


class ProjectMemberRemoveView(_GrantMixin, View):
    """POST: end a person's role on the project at once."""

    def post(self, request, number, grant_id):
        try:
            services.project_member_remove(grant=self.grant, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The role was revoked."))
        return HttpResponseRedirect(self.members_url())
