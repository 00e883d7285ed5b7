"""Writes of organizations, split by noun (import from the module, there is no re-export):

- `profile`: create an organization, its profile, support contact, logo and kind (ORG-1, ORG-8);
- `relations`: customers of a partner, connection requests, ending a relation (ORG-2, ORG-3);
- `archive`: archive a linked customer, restore it (ORG-7);
- `staff`: assign partner staff to customers (ORG-11);
- `members`: memberships and roles (ORG-5);
- `invitations`: invitations and their links (ORG-5).

The audit trail every app writes to is `portal.audit` (`audit_record`, `audit_record_many`).
"""
