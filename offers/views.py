"""Browser pages of offers (OFR-2 … OFR-6): thin adapters around one service call each.

Partner org: templates, sending (single and bulk), the sent offers with live status (htmx polling).
Customer org: received offers with the red badge, accept/decline, webhook settings. The page
templates are separate per side, so partner conditions never reach a customer's page.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView
from django.views.generic.detail import SingleObjectMixin

from portal.errors import DomainError, InvalidInput, NotFound
from portal.pagination import CappedPaginator
from portal.templatetags.ui import choice_label
from portal.tenancy import restrict
from portal.views import DomainErrorActionMixin, DomainErrorFormMixin, OrgScopedMixin

from . import services
from .forms import (
    OfferBulkSendForm,
    OfferDeclineForm,
    OfferSendForm,
    OfferTemplateItemForm,
    OfferTemplateNameForm,
    WebhookSettingsForm,
)
from .models import Offer, OfferBulkSend, OfferTemplate, OfferTemplateItem, WebhookEndpoint
from .selectors import (
    OfferFilters,
    conditions_totals,
    customers_of_partner,
    item_conditions,
    offer_items,
    offer_list,
    offer_template_items,
    offer_template_list,
    offer_total,
    product_search,
    side_of,
    webhook_for,
)


def _org_id(view) -> str:
    return view.org.organization.public_id


# --- offers: list and detail (both sides) ---------------------------------------------------------


TABLE_FIELDS = ("title", "status", "created_at", "delivered_at", "partner__name", "customer__name")


class OfferListView(OrgScopedMixin, ListView):
    """Partner: sent offers, status updating live. Customer: received offers (OFR-6). The total
    is counted up to 1,000 ("more than 1,000 entries"): a partner's 200,000 offers cost more to
    count than to list (issue 13); status and search narrow them."""

    model = Offer
    capability = "offers.view"
    paginate_by = 25
    paginator_class = CappedPaginator

    def get_template_names(self):
        side = side_of(self.org)
        if self.request.htmx and self.request.GET.get("fragment") == "table":
            return ["offers/_offer_table.html"]
        return [f"offers/{side}/offer_list.html"]

    def get_queryset(self):
        self.filters = OfferFilters.from_params(self.request.GET, search_param="q")
        # what the table shows; the orgs by name only, not their 30 columns each (issue 13)
        return offer_list(scope=self.scope, filters=self.filters).only(*TABLE_FIELDS)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # not `get_status_display`, which translates every choice again for each row (issue 13)
        for offer in context["object_list"]:
            offer.status_label = choice_label(Offer.Status, offer.status)
        poll = self.request.GET.copy()
        poll["fragment"] = "table"
        context.update(
            side=side_of(self.org),
            statuses=Offer.Status.choices,
            status=self.filters.status,
            query=self.filters.search,
            still_delivering=any(offer.status == Offer.Status.WAITING for offer in context["object_list"]),
            poll_url=f"{self.request.path}?{poll.urlencode()}",
        )
        return context


class OfferDetailView(OrgScopedMixin, DetailView):
    model = Offer
    capability = "offers.view"
    pk_url_kwarg = "offer_id"
    context_object_name = "offer"

    def get_queryset(self):
        return super().get_queryset().select_related("partner", "customer", "sent_by", "decided_by", "cancelled_by")

    def get_template_names(self):
        return [f"offers/{side_of(self.org)}/offer_detail.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        items = offer_items(offer=self.object)
        status = self.object.status
        context.update(
            items=items,
            total=offer_total(items),
            can_cancel=self.org.has("offers.send") and status in Offer.OPEN_STATUSES,
            can_retry=self.org.has("offers.send") and status == Offer.Status.DELIVERY_FAILED,
            can_decide=self.org.has("offers.decide") and status == Offer.Status.WAITING_FOR_CONFIRMATION,
            decline_form=OfferDeclineForm(),
        )
        if side_of(self.org) == "partner":
            for item in items:  # the recorded partner price; margin derived from it
                item.conditions = item_conditions(item, discount=Decimal("0"))
            totals = conditions_totals(items)
            context.update(purchase_total=totals["partner"], margin_total=totals["margin"])
        return context


class OfferStatusView(OrgScopedMixin, DetailView):
    """htmx fragment: the offer's status; it polls itself while delivery is running (OFR-4)."""

    model = Offer
    capability = "offers.view"
    pk_url_kwarg = "offer_id"
    context_object_name = "offer"
    template_name = "offers/_status.html"

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if self.request.GET.get("was") == "waiting" and self.object.status != Offer.Status.WAITING:
            response["HX-Refresh"] = "true"  # the page's actions depend on the new status
        return response


class OfferActionView(OrgScopedMixin, DomainErrorActionMixin, SingleObjectMixin, View):
    """POST one transition; a refused one (409/400) becomes a message on the detail page."""

    model = Offer
    pk_url_kwarg = "offer_id"

    def get_queryset(self):
        return super().get_queryset().select_related("partner", "customer")

    def get_success_url(self, offer) -> str:
        return reverse("offer-detail", kwargs={"org": _org_id(self), "offer_id": offer.pk})


class OfferCancelView(OfferActionView):
    capability = "offers.send"

    def perform(self, offer):
        self.success_message = _("The offer was withdrawn.")
        services.offer_cancel(offer=offer, context=self.org, actor=self.request.user)


class OfferRetryView(OfferActionView):
    capability = "offers.send"

    def perform(self, offer):
        self.success_message = _("Delivery starts again.")
        services.offer_retry_delivery(offer=offer, context=self.org, actor=self.request.user)


class OfferAcceptView(OfferActionView):
    capability = "offers.decide"

    def perform(self, offer):
        self.success_message = _("You accepted the offer. The licenses are provisioned.")
        services.offer_accept(offer=offer, context=self.org, actor=self.request.user)


class OfferDeclineView(OfferActionView):
    capability = "offers.decide"

    def perform(self, offer):
        form = OfferDeclineForm(self.request.POST)
        if not form.is_valid():
            raise InvalidInput(_("The reason is too long."), field="reason")
        self.success_message = _("You declined the offer.")
        services.offer_decline(
            offer=offer, context=self.org, actor=self.request.user, reason=form.cleaned_data["reason"]
        )


# --- sending (partner) ------------------------------------------------------------------------------


class OfferSendView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    """OFR-3: pick a customer from the list of customer orgs, then a template and a message."""

    capability = "offers.send"
    form_class = OfferSendForm
    template_name = "offers/partner/offer_send.html"
    paginate_by = 25

    def _templates(self):
        return restrict(OfferTemplate.objects.all(), self.scope).order_by("name", "id")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["templates"] = self._templates()
        return kwargs

    def get_initial(self):
        initial = super().get_initial()
        initial["customer"] = self.request.GET.get("customer", "")
        if self.request.GET.get("template"):
            initial["template"] = self.request.GET["template"]
        return initial

    duplicate = None

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        # Choosing another template shows its prices, partner price and margin (htmx fragment).
        form.fields["template"].widget.attrs.update(
            {
                "hx-get": self.request.path,
                "hx-trigger": "change",
                "hx-target": "#send-preview",
                "hx-swap": "outerHTML",
                "hx-vals": '{"fragment": "preview"}',
                "aria-controls": "send-preview",
            }
        )
        return form

    def get(self, request, *args, **kwargs):
        if request.htmx and request.GET.get("fragment") == "preview":
            return render(request, "offers/partner/_send_preview.html", self._preview(request.GET.get("template")))
        return super().get(request, *args, **kwargs)

    def _preview(self, template_id) -> dict:
        """The chosen template's items with the partner's conditions, before sending (issue 16)."""
        templates = self._templates()
        template = None
        if template_id:
            template = templates.filter(pk=template_id).first() if str(template_id).isdigit() else None
        template = template or templates.first()
        items = offer_template_items(template=template, with_conditions=True) if template else []
        return {"preview_template": template, "preview_items": items, "preview_totals": conditions_totals(items)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        if self.duplicate is not None:
            form.errors.pop(NON_FIELD_ERRORS, None)
            context.update(duplicate=self.duplicate, duplicate_message=self.duplicate_message)
        chosen_id = (form.data.get("customer") if form.is_bound else form.initial.get("customer")) or ""
        partner = self.org.organization
        chosen = (
            customers_of_partner(partner=partner).filter(public_id=chosen_id.strip().upper()).first()
            if chosen_id
            else None
        )
        context["chosen"] = chosen
        # The page shows either the offer form for the chosen customer (with the template's preview)
        # or the list of customers to choose from: only what it shows is read (issue 13).
        if chosen is not None:
            context.update(self._preview(form.data.get("template") if form.is_bound else form.initial.get("template")))
            # the preview shows the first template when none is chosen: there is none without templates
            context["has_templates"] = context["preview_template"] is not None
            return context
        query = self.request.GET.get("q", "").strip()[:100]
        # a partner's 10,000 customers: counted up to 1,000, searching narrows them (issue 13)
        customers = customers_of_partner(partner=partner, query=query).only("name", "public_id")
        page = CappedPaginator(customers, self.paginate_by).get_page(self.request.GET.get("page"))
        context.update(
            query=query,
            page_obj=page,
            customers=page.object_list,
            is_paginated=page.has_other_pages(),
            has_templates=self._templates().exists(),
        )
        return context

    def perform(self, form):
        try:
            return services.offer_send(
                context=self.org,
                template=form.cleaned_data["template"],
                customer=form.cleaned_data["customer"],
                message=form.cleaned_data["message"],
                actor=self.request.user,
                allow_duplicate=self.request.POST.get("allow_duplicate") == "1",
            )
        except services.DuplicateOffer as duplicate:
            # The page shows it as a warning with a link and "Send anyway", not as a form error.
            self.duplicate, self.duplicate_message = duplicate.existing, duplicate.message
            raise

    success_message = gettext_lazy("The offer is on its way to the customer.")

    def get_success_url(self, offer=None):
        return reverse("offer-detail", kwargs={"org": _org_id(self), "offer_id": offer.pk})


class OfferBulkSendView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    capability = "offers.send"
    form_class = OfferBulkSendForm
    template_name = "offers/partner/bulk_send.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["templates"] = restrict(OfferTemplate.objects.all(), self.scope).order_by("name", "id")
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["customer_count"] = customers_of_partner(partner=self.org.organization).count()
        context["recent"] = list(restrict(OfferBulkSend.objects.all(), self.scope).order_by("-created_at", "-id")[:10])
        return context

    def perform(self, form):
        return services.offer_bulk_send_start(
            context=self.org,
            template=form.cleaned_data["template"],
            message=form.cleaned_data["message"],
            customers=form.cleaned_data["customer_identifiers"],
            actor=self.request.user,
        )

    success_message = gettext_lazy("Sending has started.")

    def get_success_url(self, bulk=None):
        return reverse("offer-bulk-send-detail", kwargs={"org": _org_id(self), "bulk_send_id": bulk.pk})


class OfferBulkSendDetailView(OrgScopedMixin, DetailView):
    """Progress of a bulk send; the bar refreshes itself while it runs."""

    model = OfferBulkSend
    capability = "offers.send"
    pk_url_kwarg = "bulk_send_id"
    context_object_name = "bulk"

    def get_template_names(self):
        if self.request.htmx:
            return ["offers/partner/_bulk_progress.html"]
        return ["offers/partner/bulk_send_detail.html"]


# --- offer templates (partner, OFR-2) ---------------------------------------------------------------


class OfferTemplateListView(OrgScopedMixin, DomainErrorFormMixin, ListView, FormView):
    model = OfferTemplate
    capability = "offer_templates.manage"
    template_name = "offers/partner/template_list.html"
    form_class = OfferTemplateNameForm
    paginate_by = 50

    def get_queryset(self):
        return offer_template_list(queryset=super().get_queryset())

    def post(self, request, *args, **kwargs):
        self.object_list = self.get_queryset()
        form = self.get_form()
        return self.form_valid(form) if form.is_valid() else self.form_invalid(form)

    def perform(self, form):
        return services.offer_template_create(context=self.org, name=form.cleaned_data["name"], actor=self.request.user)

    def get_success_url(self, template=None):
        return reverse("offer-template-detail", kwargs={"org": _org_id(self), "template_id": template.pk})


class TemplateMixin(OrgScopedMixin):
    capability = "offer_templates.manage"

    def get_template(self) -> OfferTemplate:
        template = restrict(OfferTemplate.objects.all(), self.scope).filter(pk=self.kwargs["template_id"]).first()
        if template is None:
            raise NotFound(_("Not found."))
        return template

    def get_item(self, template: OfferTemplate) -> OfferTemplateItem:
        item = template.items.select_related("product", "template").filter(pk=self.kwargs["item_id"]).first()
        if item is None:
            raise NotFound(_("Not found."))
        return item

    def detail_url(self, template) -> str:
        return reverse("offer-template-detail", kwargs={"org": _org_id(self), "template_id": template.pk})

    def render_items(self, template, status=200, error=None, query=None):
        """The items table after a change, with the "Saved"/"Not saved" status (out of band, into
        the page's live region) and, after adding, the search results again (out of band)."""
        items = offer_template_items(template=template, with_conditions=True)
        results = None
        if query is not None:
            results = product_search(query=query, template=template)
        return render(
            self.request,
            "offers/partner/_template_items.html",
            {
                "template": template,
                "items": items,
                "totals": conditions_totals(items),
                "error": error,
                "saved": error is None,
                "saved_at": timezone.now(),
                "results": results,
                "query": query or "",
                "org_context": self.org,
            },
            status=status,
        )


class OfferTemplateDetailView(TemplateMixin, TemplateView):
    """The template editor: rename, search and add products, change or remove items – each saved at once."""

    template_name = "offers/partner/template_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        template = self.get_template()
        items = offer_template_items(template=template, with_conditions=True)
        context.update(
            template=template,
            items=items,
            totals=conditions_totals(items),
            rename_form=OfferTemplateNameForm(initial={"name": template.name}),
        )
        return context


class OfferTemplateRenameView(TemplateMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        template = self.get_template()
        try:
            services.offer_template_rename(
                template=template, context=self.org, name=request.POST.get("name", ""), actor=request.user
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Renamed."))
        return HttpResponseRedirect(self.detail_url(template))


class OfferTemplateDeleteView(TemplateMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        template = self.get_template()
        services.offer_template_delete(template=template, context=self.org, actor=request.user)
        messages.success(request, _("The template was deleted. Offers already sent keep their items."))
        return redirect("offer-template-list", org=_org_id(self))


class ProductSearchView(TemplateMixin, View):
    """htmx: catalog products matching the search field, each with an "Add" button."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        template = self.get_template()
        query = request.GET.get("q", "")
        return render(
            request,
            "offers/partner/_product_results.html",
            {
                "template": template,
                "products": product_search(query=query, template=template),
                "query": query,
                "org_context": self.org,
            },
        )


class OfferTemplateItemAddView(TemplateMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        template = self.get_template()
        error = None
        try:
            services.offer_template_add_product(
                template=template, context=self.org, product_id=request.POST.get("product"), actor=request.user
            )
        except DomainError as exc:
            error = exc.message
        if request.htmx:
            return self.render_items(template, status=200, error=error, query=request.POST.get("q", ""))
        if error:
            messages.error(request, error)
        return HttpResponseRedirect(self.detail_url(template))


class OfferTemplateItemUpdateView(TemplateMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        template = self.get_template()
        item = self.get_item(template)
        form = OfferTemplateItemForm(request.POST)
        error = None
        if not form.is_valid():
            error = " ".join(str(message) for errors in form.errors.values() for message in errors)
        else:
            try:
                services.offer_template_update_item(
                    item=item, context=self.org, actor=request.user, **form.cleaned_data
                )
            except DomainError as exc:
                error = exc.message
        if request.htmx:
            return self.render_items(template, error=error)
        if error:
            messages.error(request, error)
        return HttpResponseRedirect(self.detail_url(template))


class OfferTemplateItemRemoveView(TemplateMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        template = self.get_template()
        services.offer_template_remove_item(item=self.get_item(template), context=self.org, actor=request.user)
        if request.htmx:
            return self.render_items(template)
        return HttpResponseRedirect(self.detail_url(template))


# --- webhook settings (customer, OFR-4) ---------------------------------------------------------------


class WebhookSettingsView(OrgScopedMixin, DomainErrorFormMixin, FormView):
    capability = "webhooks.manage"
    form_class = WebhookSettingsForm
    template_name = "offers/customer/webhook_settings.html"

    def get_initial(self):
        endpoint = webhook_for(organization=self.org.organization)
        return {"url": endpoint.url, "is_active": endpoint.is_active} if endpoint else {"is_active": True}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["endpoint"] = webhook_for(organization=self.org.organization)
        return context

    def post(self, request, *args, **kwargs):
        if request.POST.get("remove"):
            services.webhook_settings_delete(context=self.org, actor=request.user)
            messages.success(request, _("The webhook was removed."))
            return HttpResponseRedirect(self.get_success_url())
        return super().post(request, *args, **kwargs)

    def perform(self, form):
        return services.webhook_settings_save(
            context=self.org,
            url=form.cleaned_data["url"],
            secret=form.cleaned_data["secret"],
            is_active=form.cleaned_data["is_active"],
            actor=self.request.user,
        )

    success_message = gettext_lazy("Webhook settings saved.")

    def get_success_url(self, endpoint: WebhookEndpoint | None = None):
        return reverse("offer-webhook-settings", kwargs={"org": _org_id(self)})
