"""What the Support group may do with delegations in the admin (DLG-7).

The organizations app syncs these into the "Support" group: support staff see every delegation
and may end one through the admin action (which calls the service); nothing else is editable.
"""

SUPPORT_PERMISSIONS = ["delegations.view_delegation", "delegations.change_delegation"]
