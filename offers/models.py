"""Models of the offers app."""
