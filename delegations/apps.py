from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DelegationsConfig(AppConfig):
    name = "delegations"
    verbose_name = _("Delegations")

    def ready(self):
        # Importing registers the tenancy restriction, the notification kinds and the archive hook.
        from . import notifications, selectors, services  # noqa: F401

        # DLG-1: incoming and outgoing requests on the shared "Open requests" page, where it exists.
        try:
            from organizations.open_requests import open_request_section
        except ImportError:  # the page belongs to the organizations app
            open_request_section = None
        if open_request_section is not None:
            open_request_section(
                key="delegations",
                template="delegations/_open_requests.html",
                context=selectors.delegation_open_requests_section,
                count=selectors.delegation_requests_awaiting,
            )
