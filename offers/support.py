"""What the Support group may do with offers in the admin (OFR-1, ORG-9).

`organizations.support.support_group_sync` collects these (after every `migrate` and in
`seed_demo`). Support maintains the catalog and partner conditions (add, change, view; products
are retired with "available", never deleted) and reads templates, offers and bulk sends.
"""

SUPPORT_PERMISSIONS = [
    "offers.view_product",
    "offers.add_product",
    "offers.change_product",
    "offers.view_partnertier",
    "offers.add_partnertier",
    "offers.change_partnertier",
    "offers.view_partnercondition",
    "offers.add_partnercondition",
    "offers.change_partnercondition",
    "offers.delete_partnercondition",
    "offers.view_offertemplate",
    "offers.view_offer",
    "offers.view_offerbulksend",
    "offers.view_webhookendpoint",
]
