"""Re-index every product and SKU: product text is now one passage per heading, attribute group, paragraph
and list item, and attribute lines read "Name: value unit". The beat sweep picks the rows up; vectors of
unchanged passages are reused by content hash."""

from django.db import migrations
from django.db.models import F

BATCH = 10_000  # rows per statement, so no long lock is held on a large catalog


def touch(apps, schema_editor):
    from django.utils import timezone

    now = timezone.now()
    for name in ("Product", "SKU"):
        model = apps.get_model("catalog", name)
        ids = list(model.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            model.objects.filter(pk__in=ids[start : start + BATCH]).update(
                index_nonce=F("index_nonce") + 1, index_changed_at=now
            )


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("knowledge", "0014_ingestion_idempotency_key"), ("catalog", "0008_attribute_contracts")]
    operations = [migrations.RunPython(touch, migrations.RunPython.noop)]
