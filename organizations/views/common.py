"""Helpers shared by the organization pages."""

from __future__ import annotations

from django.urls import reverse

from ..models import Organization


def org_url(name: str, org: Organization, **kwargs) -> str:
    return reverse(name, kwargs={"org": org.public_id, **kwargs})
