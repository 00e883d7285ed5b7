"""Writes of the invoices app, one module per noun: `issuing` (invoices, their PDF and email) and
`payment_methods`."""
