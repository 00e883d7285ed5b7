"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from django_countries.fields import Country
from django_countries.serializer_fields import CountryField as _CountryField


class CountryField(_CountryField):
    """django-countries' field (choices, validation, schema), which answers a stored country with
    its code as it is stored. The model field keeps only normalized codes (`CountryField.to_python`
    on every write), so django-countries' lookup of the code in its translated country table for
    every value of a response – about 13 µs, four per org in the org list – would find the same
    code again (issue 13)."""

    def to_representation(self, obj):
        if isinstance(obj, Country) and not self.country_dict and not self.name_only:
            code = obj.code
            if not code:
                return None if self.allow_null else ""
            if code in self.countries.countries:  # django-countries' cached table of codes
                return code
        return super().to_representation(obj)
