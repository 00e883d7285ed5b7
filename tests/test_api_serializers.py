"""`portal.api.serializers.ModelSerializer`: the fields mapped from the model once per class,
the same fields DRF would map, never shared between two instances."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from rest_framework import serializers

from portal.api.serializers import ModelSerializer

# the modules that declare API serializers (importing them registers every subclass)
SERIALIZER_MODULES = [
    "organizations.api.serializers",
    "organizations.api.members",
    "projects.api.serializers",
    "delegations.api.serializers",
    "offers.api.serializers",
    "billing.api.serializers",
    "invoices.api.serializers",
    "portal.api.notifications",
]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _portal_model_serializers():
    for module in SERIALIZER_MODULES:
        importlib.import_module(module)
    found = sorted(set(_subclasses(serializers.ModelSerializer)), key=lambda c: f"{c.__module__}.{c.__qualname__}")
    local = [c for c in found if apps.get_containing_app_config(c.__module__) is not None]
    return [c for c in local if c is not ModelSerializer and not c.__module__.startswith(("rest_framework", "tests"))]


PORTAL_SERIALIZERS = _portal_model_serializers()


def test_the_portal_has_model_serializers_to_check():
    assert len(PORTAL_SERIALIZERS) >= 20


@pytest.mark.parametrize("serializer_class", PORTAL_SERIALIZERS, ids=lambda c: c.__qualname__)
def test_every_model_serializer_builds_its_fields_once(serializer_class):
    # a new serializer on DRF's class would map its fields on every request again
    assert issubclass(serializer_class, ModelSerializer), serializer_class


@pytest.mark.parametrize("serializer_class", PORTAL_SERIALIZERS, ids=lambda c: c.__qualname__)
def test_the_fields_built_once_are_the_fields_drf_maps(serializer_class):
    cached = serializer_class().fields
    # DRF's own mapping for the same class, built now
    fresh = serializers.ModelSerializer.get_fields(serializer_class())
    assert list(cached) == list(fresh)
    for name, field in cached.items():
        assert repr(field) == repr(fresh[name]), name


def test_the_mapping_runs_once_per_class_and_each_instance_has_its_own_fields(monkeypatch):
    from offers.api.serializers import PartnerOfferItemSerializer, PartnerOfferSerializer

    PartnerOfferSerializer().fields  # built (at most the first time in this process)
    calls = []
    original = serializers.ModelSerializer.build_field
    monkeypatch.setattr(
        serializers.ModelSerializer, "build_field", lambda self, *a, **k: calls.append(a[0]) or original(self, *a, **k)
    )
    first, second = PartnerOfferSerializer(many=True), PartnerOfferSerializer(many=True)
    assert first.child.fields["status"] is not second.child.fields["status"]
    assert first.child.fields["status"].parent is first.child and second.child.fields["status"].parent is second.child
    items = first.child.fields["items"]
    assert isinstance(items.child, PartnerOfferItemSerializer) and items.child.fields["sku"].parent is items.child
    assert calls == []  # neither the offer's nor its items' model fields mapped again
