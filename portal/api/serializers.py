"""The portal's base for model serializers: `ModelSerializer`, DRF's with the fields it maps from
the model built once per class.

DRF maps the model's fields again for every serializer instance – each request's list serializer
and each nested one (issue 13: 1.3 ms of the 25-offer API list, more than its SQL). The mapping
depends on the class alone (its `Meta` and declared fields; no portal serializer makes it depend
on the context), so it is built once and deep-copied per instance, as DRF copies the declared
fields.
"""

from __future__ import annotations

import copy

from rest_framework import serializers


# No docstring here: drf-spectacular describes a serializer by the first docstring in its MRO
# before DRF's own classes, so one here would describe every portal serializer without its own.
class ModelSerializer(serializers.ModelSerializer):
    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()
            cls._fields_built_once = built
        return copy.deepcopy(built)
