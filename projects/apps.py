from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Projects")

    def ready(self):
        from . import (
            selectors,  # noqa: F401  registers the tenancy restrictions
            services,  # noqa: F401  registers the notification kinds
        )
