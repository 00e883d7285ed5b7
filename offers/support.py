"""What the Support group may do with offers in the admin (OFR-1, ORG-9).

Support maintains the catalog and partner conditions (add, change, view; deleting a product used
by offers is refused by PROTECT) and reads templates, offers and bulk sends. `support_group_sync`
runs after every `migrate`, so a fresh installation has the permissions too.
"""
from __future__ import annotations

SUPPORT_GROUP = "Support"
SUPPORT_PERMISSIONS = [
    "offers.view_product", "offers.add_product", "offers.change_product",
    "offers.view_partnertier", "offers.add_partnertier", "offers.change_partnertier",
    "offers.view_partnercondition", "offers.add_partnercondition", "offers.change_partnercondition",
    "offers.delete_partnercondition",
    "offers.view_offertemplate", "offers.view_offer", "offers.view_offerbulksend", "offers.view_webhookendpoint",
]


def support_group_sync(**kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    wanted = [label.split(".", 1)[1] for label in SUPPORT_PERMISSIONS]
    permissions = Permission.objects.filter(content_type__app_label="offers", codename__in=wanted)
    group.permissions.add(*permissions)
