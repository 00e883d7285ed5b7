from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_support_group(sender, **kwargs):
    from .support import support_group_sync

    support_group_sync()


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organizations and accounts")

    def ready(self):
        # ORG-3/ORG-5: tenancy restrictions of members, invitations, relations and the audit trail;
        # notification kinds; connection requests on the shared "Open requests" page (first section)
        from . import notifications, selectors  # noqa: F401
        from .open_requests import open_request_section

        open_request_section(
            key="connections",
            template="organizations/_open_requests.html",
            context=selectors.connection_open_requests_section,
            count=selectors.connection_requests_awaiting,
            order=10,
        )
        # ORG-9: the Support group holds exactly the support permissions after every migrate
        # (for every app's signal: the permissions of later apps exist only after theirs ran)
        post_migrate.connect(_sync_support_group, dispatch_uid="organizations.support_group_sync")
