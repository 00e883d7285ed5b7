"""Browser pages of subscriptions (BIL-1 … BIL-4) and paid services on a project (PRJ-5).

Inside an org (`/o/<org>/billing/…`): `portal.views.OrgScopedMixin` with "billing.view" to look and
"billing.manage" to change – partner-only capabilities, so the customer's own accounts of a
partner-linked org, guests and caretakers get 404 (ORG-6). Partner staff reach each linked
customer's subscriptions from inside that customer org.

Bookings and service orders take two steps: choose, then review the price, the invoice recipient
and the term and confirm "order with obligation to pay" (BIL-3). Nothing is booked before that.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.generic import ListView, TemplateView

from portal.errors import DomainError, NotFound
from portal.tenancy import restrict
from portal.views import DomainErrorActionMixin, OrgScopedMixin
from projects.roles import ProjectAction
from projects.views import ProjectScopedMixin

from . import services
from .forms import BookingForm, ConfirmObligationForm, QuantityForm
from .models import Subscription
from .selectors import (
    bookable_products,
    partner_discount_for,
    price_quote,
    project_service_rows,
    quantities_in_force,
    service_products,
    subscription_add_ons,
    subscription_detail,
    subscription_list,
    subscription_page_rows,
)
from .units import Unit, amount_text

PAGE_SIZE = 25


def _offer(product, quantity, payer) -> dict:
    """What the review step shows: the list price, the partner's conditions and the total (BIL-3)."""
    quote = price_quote(product=product, quantity=quantity, payer=payer)
    return {"quote": quote, "unit_price": quote.unit_price, "monthly_amount": quote.monthly_amount}


class _BillingMixin(OrgScopedMixin):
    capability = "billing.view"

    @cached_property
    def payer(self):
        return services.payer_in(self.org)

    def list_url(self) -> str:
        return reverse("subscription-list", kwargs={"org": self.org.organization.public_id})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["payer"] = self.payer
        context["may_manage"] = self.org.has("billing.manage")
        return context


class SubscriptionListView(_BillingMixin, ListView):
    """`/o/<org>/billing/subscriptions/`: trials, bookings, add-ons, offers and ordered services."""

    model = Subscription
    paginate_by = PAGE_SIZE
    template_name = "billing/subscription_list.html"

    def get_queryset(self):
        return subscription_page_rows(queryset=super().get_queryset())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        quantities = quantities_in_force(organization=self.org.organization)
        context["licences_in_force"] = quantities.pop(Unit.LICENCE, 0)
        # Storage and services in their own units, never added to the licences (issue 16).
        context["other_quantities"] = [amount_text(unit, amount) for unit, amount in sorted(quantities.items())]
        return context


class _SubscriptionMixin(_BillingMixin):
    @cached_property
    def subscription(self) -> Subscription:
        queryset = subscription_detail(queryset=restrict(Subscription.objects.all(), self.scope, "view"))
        subscription = get_object_or_404(queryset, pk=self.kwargs["subscription_id"])
        subscription.organization = self.org.organization  # restricted to it: not joined again
        return subscription

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["subscription"] = self.subscription
        return context


class SubscriptionDetailView(_SubscriptionMixin, TemplateView):
    template_name = "billing/subscription_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["add_ons"] = subscription_add_ons(self.subscription)
        context["quantity_form"] = QuantityForm(initial={"quantity": self.subscription.quantity})
        return context


class SubscriptionQuantityView(_SubscriptionMixin, TemplateView):
    """POST: change the quantity from now on (errors are shown on the subscription's page)."""

    capability = "billing.manage"
    template_name = "billing/subscription_detail.html"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = QuantityForm(request.POST)
        if form.is_valid():
            try:
                services.subscription_change_quantity(
                    subscription=self.subscription,
                    quantity=form.cleaned_data["quantity"],
                    actor=request.user,
                    context=self.org,
                )
            except DomainError as error:
                form.add_error("quantity", error.message)
            else:
                messages.success(request, _("The quantity was changed."))
                return HttpResponseRedirect(self.detail_url())
        context = self.get_context_data(quantity_form=form)
        context["add_ons"] = subscription_list(queryset=self.subscription.add_ons.all())
        return self.render_to_response(context, status=400)

    def detail_url(self) -> str:
        return reverse(
            "subscription-detail",
            kwargs={"org": self.org.organization.public_id, "subscription_id": self.subscription.pk},
        )


class SubscriptionCancelView(_SubscriptionMixin, DomainErrorActionMixin, TemplateView):
    """GET: what cancelling means; POST: cancel at the end of the term."""

    capability = "billing.manage"
    template_name = "billing/subscription_cancel.html"
    http_method_names = ["get", "post"]

    def get_action_object(self):
        return self.subscription

    def perform(self, subscription) -> str:
        services.subscription_cancel(subscription=subscription, actor=self.request.user, context=self.org)
        return _("The subscription was cancelled. It runs until the end of its term.")

    def get_success_url(self, subscription) -> str:
        return reverse(
            "subscription-detail", kwargs={"org": self.org.organization.public_id, "subscription_id": subscription.pk}
        )


class SubscriptionBookView(_BillingMixin, TemplateView):
    """`/o/<org>/billing/subscriptions/book/`: choose (step 1), then confirm the order with
    obligation to pay (step 2). `?parent=<id>` books an add-on to that subscription."""

    capability = "billing.manage"
    template_name = "billing/subscription_book.html"

    @cached_property
    def parent(self) -> Subscription | None:
        value = self.request.POST.get("parent") or self.request.GET.get("parent")
        if not value:
            return None
        if not str(value).isdigit():
            raise NotFound(_("Not found."))
        queryset = restrict(Subscription.objects.filter(parent__isnull=True), self.scope, "change")
        return get_object_or_404(queryset.select_related("product"), pk=int(value))

    @cached_property
    def product_choices(self):
        # An add-on picker offers only the add-ons of the parent's product (issue 16).
        return bookable_products(parent=self.parent)

    def products(self):
        return self.product_choices

    def price_list(self) -> list[dict]:
        """Step 1's prices: list price and, for a partner, its price, per unit and month."""
        discount = partner_discount_for(self.payer)
        return [
            {
                "product": product,
                "quote": price_quote(product=product, quantity=1, payer=self.payer, discount_percent=discount),
            }
            for product in self.product_choices
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["parent"] = self.parent
        context["price_list"] = self.price_list()
        context.setdefault("form", BookingForm(products=self.products()))
        return context

    def post(self, request, *args, **kwargs):
        form = BookingForm(request.POST, products=self.products())
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        product, quantity = form.cleaned_data["product"], form.cleaned_data["quantity"]
        confirm = ConfirmObligationForm(request.POST if request.POST.get("step") == "confirm" else None)
        review = {
            "form": form,
            "confirm_form": confirm,
            "product": product,
            "quantity": quantity,
            **_offer(product, quantity, self.payer),
        }
        if request.POST.get("step") != "confirm":
            return render(request, "billing/subscription_confirm.html", self.get_context_data(**review))
        if not confirm.is_valid():
            return render(request, "billing/subscription_confirm.html", self.get_context_data(**review), status=400)
        try:
            subscription = services.subscription_book(
                context=self.org,
                product=product,
                quantity=quantity,
                parent=self.parent,
                confirm_obligation_to_pay=confirm.cleaned_data["confirm_obligation_to_pay"] is True,
                actor=request.user,
            )
        except DomainError as error:
            confirm.add_error(None, error.message)
            return render(request, "billing/subscription_confirm.html", self.get_context_data(**review), status=400)
        messages.success(request, _("Booked with obligation to pay."))
        return HttpResponseRedirect(
            reverse(
                "subscription-detail",
                kwargs={"org": self.org.organization.public_id, "subscription_id": subscription.pk},
            )
        )


class ProjectServicesView(ProjectScopedMixin, TemplateView):
    """`/projects/<number>/services/`: the project's paid services and ordering one (PRJ-5).

    Only holders of the project's "order paid services" permission (project Admins; caretakers and
    Developers get 403). Prices are shown where the person may see the org's billing or the org
    pays itself; a partner-linked customer's own people never see partner conditions.
    """

    project_actions = {"GET": ProjectAction.ORDER_SERVICES, "POST": ProjectAction.ORDER_SERVICES}
    template_name = "billing/project_services.html"

    @cached_property
    def payer(self):
        context = getattr(self.request, "org_context", None)  # the project's org, where the user acts in it
        if context is not None:
            return services.payer_in(context)
        return services.payer_for(self.project.organization)

    @cached_property
    def shows_prices(self) -> bool:
        context = getattr(self.request, "org_context", None)
        if self.payer.pk == self.project.organization_id:
            return True  # a direct customer pays list prices, which are public
        return bool(context and context.has("billing.view"))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queryset = project_service_rows(project=self.project)
        context["page_obj"] = Paginator(queryset, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context["services"] = context["page_obj"].object_list
        context.setdefault("form", BookingForm(products=service_products()))
        context["payer"] = self.payer
        context["shows_prices"] = self.shows_prices
        return context

    def post(self, request, *args, **kwargs):
        form = BookingForm(request.POST, products=service_products())
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        product, quantity = form.cleaned_data["product"], form.cleaned_data["quantity"]
        confirm = ConfirmObligationForm(request.POST if request.POST.get("step") == "confirm" else None)
        review = {"form": form, "confirm_form": confirm, "product": product, "quantity": quantity}
        if self.shows_prices:
            review.update(_offer(product, quantity, self.payer))
        template = "billing/project_service_confirm.html"
        if request.POST.get("step") != "confirm":
            return render(request, template, self.get_context_data(**review))
        if not confirm.is_valid():
            return render(request, template, self.get_context_data(**review), status=400)
        try:
            services.service_order(
                project=self.project,
                product=product,
                quantity=quantity,
                actor=request.user,
                confirm_obligation_to_pay=confirm.cleaned_data["confirm_obligation_to_pay"] is True,
            )
        except DomainError as error:
            confirm.add_error(None, error.message)
            return render(request, template, self.get_context_data(**review), status=400)
        messages.success(request, _("The service was ordered with obligation to pay."))
        return HttpResponseRedirect(reverse("project-services", kwargs={"number": self.project.number}))
