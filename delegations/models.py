"""Models of the delegations app."""
