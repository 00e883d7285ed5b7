"""Browser pages of organizations and accounts, split by noun (import from the module, there is no
re-export): `auth`, `profile`, `relations`, `customers`, `audit_trail`, `members`, `invitations`;
`common` holds the helpers they share."""
