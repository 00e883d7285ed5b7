"""Shared API fields (`portal.api.fields`)."""

from __future__ import annotations

import pytest
from django.utils import translation
from django_countries.fields import Country
from django_countries.serializer_fields import CountryField as LibraryCountryField

from portal.api.fields import CountryField

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("value", ["DE", "AT", "CH", "US", "", "XX", "deu", "276", None])
@pytest.mark.parametrize("allow_null", [False, True])
def test_the_country_field_answers_as_django_countries_does(value, allow_null, language):
    """The short way for stored codes gives what django-countries' normalizing gives, for codes,
    empty values, unknown codes and the alternative codes it would still normalize."""
    ours = CountryField(allow_blank=True, allow_null=allow_null)
    library = LibraryCountryField(allow_blank=True, allow_null=allow_null)
    obj = Country(code=value) if value is not None else None
    with translation.override(language):
        assert ours.to_representation(obj) == library.to_representation(obj)
        assert ours.to_representation(value) == library.to_representation(value)


def test_the_country_field_keeps_choices_names_and_dicts():
    assert list(CountryField().choices) == list(LibraryCountryField().choices)
    germany = Country(code="DE")
    with translation.override("de"):
        assert CountryField(name_only=True).to_representation(germany) == "Deutschland"
        assert CountryField(country_dict=True).to_representation(germany) == {"code": "DE", "name": "Deutschland"}


def test_the_org_api_shows_the_stored_country_code():
    from organizations.api.serializers import OrganizationSerializer
    from tests import factories

    organization = factories.OrganizationFactory(country="AT", billing_country="")
    data = OrganizationSerializer(organization, context={"request": None}).data
    assert data["country"] == "AT" and data["billing_country"] == ""
