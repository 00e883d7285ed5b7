"""The org's members: list, change a role, remove (ORG-5)."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView
from django.views.generic.detail import SingleObjectMixin

from portal.errors import InvalidInput
from portal.views import DomainErrorActionMixin, OrgScopedMixin

from .. import selectors
from ..forms import MemberRoleForm
from ..models import Membership
from ..roles import OrgRole, can_manage_member
from ..services.members import member_change_role, member_remove, roles_grantable_in


def _members_url(org) -> str:
    return reverse("member-list", kwargs={"org": org.public_id})


class MemberListView(OrgScopedMixin, ListView):
    """ORG-5: the org's members, searchable and paginated; managers change roles and remove."""

    model = Membership
    capability = "members.view"
    template_name = "organizations/member_list.html"
    paginate_by = 25

    def get_queryset(self):
        return selectors.member_list(queryset=super().get_queryset(), search=self.request.GET.get("q", ""))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        org = self.org
        can_manage = org.has("members.manage")
        grantable = roles_grantable_in(org) if can_manage else []
        # The last Owner can be neither removed nor demoted (the service refuses): don't offer it.
        sole_owner = can_manage and selectors.owner_count(org.organization) == 1
        for membership in context["object_list"]:
            membership.sole_owner = sole_owner and membership.role == OrgRole.OWNER
            membership.manageable = (
                can_manage and can_manage_member(org.role, membership.role) and not membership.sole_owner
            )
        context.update(
            query=self.request.GET.get("q", "").strip()[:100],
            can_manage=can_manage,
            can_invite=org.has("members.invite"),
            role_choices=[(role, OrgRole(role).label) for role in grantable],
        )
        return context


class MemberActionView(OrgScopedMixin, DomainErrorActionMixin, SingleObjectMixin, View):
    """POST one change of a member; a refused one becomes a message on the members page."""

    model = Membership
    capability = "members.manage"
    pk_url_kwarg = "member_id"

    def get_queryset(self):
        return super().get_queryset().select_related("user", "organization")

    def get_error_url(self, membership) -> str:
        return _members_url(self.org.organization)

    def get_success_url(self, membership) -> str:
        if not Membership.objects.filter(user=self.request.user, organization=self.org.organization).exists() and (
            self.org.via_partner is None
        ):
            return "home"  # removed oneself
        return _members_url(self.org.organization)


class MemberRoleChangeView(MemberActionView):
    def perform(self, membership) -> str:
        form = MemberRoleForm(self.request.POST)
        if not form.is_valid():
            raise InvalidInput(_("Choose a valid role."), field="role")
        member_change_role(
            membership=membership, role=form.cleaned_data["role"], actor=self.request.user, context=self.org
        )
        return _("%(person)s is now %(role)s.") % {
            "person": membership.user.email,
            "role": OrgRole(form.cleaned_data["role"]).label,
        }


class MemberRemoveView(MemberActionView):
    http_method_names = ["get", "post"]
    template_name = "organizations/member_remove.html"

    def get(self, request, *args, **kwargs):
        membership = self.get_object()
        sole_owner = membership.role == OrgRole.OWNER and selectors.owner_count(self.org.organization) == 1
        return render(request, self.template_name, {"membership": membership, "sole_owner": sole_owner})

    def perform(self, membership) -> str:
        member_remove(membership=membership, actor=self.request.user, context=self.org)
        return _("%(person)s was removed from the organization.") % {"person": membership.user.email}
