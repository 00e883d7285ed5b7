"""The "Support" group (ORG-9): support staff (`is_staff`, not superuser) hold exactly these
permissions, collected from every app's `support.py` (`SUPPORT_PERMISSIONS`).

`support_group_sync()` runs after every `migrate` and in `seed_demo`: it creates the group and
sets its permissions to exactly the union (anything else is removed).
"""

from __future__ import annotations

from importlib import import_module

SUPPORT_GROUP = "Support"

SUPPORT_PERMISSIONS = [
    # search and inspect orgs, create a customer org for a partner, restore an archived one
    "organizations.view_organization",
    "organizations.add_organization",
    "organizations.change_organization",
    # look into accounts and memberships (read-only)
    "organizations.view_user",
    "organizations.view_membership",
    # connect orgs directly, end a relation (through the services)
    "organizations.view_customerrelation",
    "organizations.add_customerrelation",
    "organizations.change_customerrelation",
    "organizations.view_staffassignment",
    # the audit trail, read-only
    "organizations.view_auditevent",
    # resend invitations (ORG-5; present once the members part exists)
    "organizations.view_invitation",
    "organizations.change_invitation",
]

APPS = ["organizations", "projects", "delegations", "offers", "billing", "invoices"]


def support_permission_labels() -> set[str]:
    labels: set[str] = set()
    for app in APPS:
        try:
            module = import_module(f"{app}.support")
        except ModuleNotFoundError as error:
            if error.name != f"{app}.support":
                raise
            continue
        labels.update(getattr(module, "SUPPORT_PERMISSIONS", []))
    return labels


def support_group_sync():
    """Create the Support group and give it exactly the support permissions that exist."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    query = Q(pk__in=[])
    for label in support_permission_labels():
        app_label, codename = label.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(query))
    return group
