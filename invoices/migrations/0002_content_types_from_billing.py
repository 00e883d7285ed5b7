"""Existing installations: what referred to the invoice models as billing's follows them.

- The content types `billing.invoice` … become `invoices.invoice` …, so their permissions (and
  the groups holding them, e.g. Support) stay attached instead of being created anew while the
  old ones linger.
- Audit events name their target by `app_label.model`: earlier events of invoices and payment
  methods are renamed alike, so filtering by target type finds them all.

On a fresh database there is nothing to rename (content types are created after `migrate`).
"""

from django.db import migrations

MODELS = ["invoice", "invoiceline", "invoicenumbercounter", "paymentmethod"]


def _rename(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEvent = apps.get_model("organizations", "AuditEvent")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)
        AuditEvent.objects.filter(target_type=f"{old}.{model}").update(target_type=f"{new}.{model}")


def forwards(apps, schema_editor):
    _rename(apps, "billing", "invoices")


def backwards(apps, schema_editor):
    _rename(apps, "invoices", "billing")


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0001_initial"),
        ("billing", "0004_invoices_moved_to_invoices_app"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("organizations", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
