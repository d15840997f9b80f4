"""API key lineages: a key and the keys that rotated it share a lineage; a rotated key expires after an overlap.

Each existing key starts its own lineage. A legal hold naming a key now covers the records of every key of
that key's lineage: `governance_answer_held` (the SQL twin of `governance.holds.answers_held`) is replaced.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models

HELD = """
CREATE OR REPLACE FUNCTION governance_answer_held(a governance_answerrecord) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM governance_legalhold h
        WHERE h.released_at IS NULL
          AND h.tenant_id = a.tenant_id
          AND (h.customer_group_id IS NULL OR h.customer_group_id = a.customer_group_id)
          AND (h.api_key_id IS NULL OR EXISTS (
                SELECT 1 FROM governance_apikey held_key JOIN governance_apikey used_key
                    ON used_key.lineage = held_key.lineage
                WHERE held_key.id = h.api_key_id AND used_key.id = a.api_key_id))
          AND (h.date_from IS NULL OR h.date_from <= a.created_at)
          AND (h.date_to IS NULL OR h.date_to >= a.created_at)
          AND (h.text_query = ''
               OR strpos(lower(a.question), lower(h.text_query)) > 0
               OR strpos(lower(a.answer), lower(h.text_query)) > 0)
    )
$$;
"""

HELD_BY_KEY = """
CREATE OR REPLACE FUNCTION governance_answer_held(a governance_answerrecord) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM governance_legalhold h
        WHERE h.released_at IS NULL
          AND h.tenant_id = a.tenant_id
          AND (h.customer_group_id IS NULL OR h.customer_group_id = a.customer_group_id)
          AND (h.api_key_id IS NULL OR h.api_key_id = a.api_key_id)
          AND (h.date_from IS NULL OR h.date_from <= a.created_at)
          AND (h.date_to IS NULL OR h.date_to >= a.created_at)
          AND (h.text_query = ''
               OR strpos(lower(a.question), lower(h.text_query)) > 0
               OR strpos(lower(a.answer), lower(h.text_query)) > 0)
    )
$$;
"""


def one_lineage_per_key(apps, schema_editor):
    ApiKey = apps.get_model("governance", "ApiKey")
    for key in ApiKey.objects.filter(lineage__isnull=True).only("pk"):
        ApiKey.objects.filter(pk=key.pk).update(lineage=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0007_risk_choices"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="lineage",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(one_lineage_per_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apikey",
            name="lineage",
            field=models.UUIDField(
                db_index=True,
                default=uuid.uuid4,
                editable=False,
                help_text="Shared by a key and every key that rotated it.",
            ),
        ),
        migrations.AddField(
            model_name="apikey",
            name="expires_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="Set by a rotation: the old key works until then.",
                null=True,
            ),
        ),
        migrations.AlterModelOptions(
            name="apikey",
            options={"ordering": ["tenant", "name", "created_at"], "verbose_name": "API key"},
        ),
        migrations.AlterField(
            model_name="legalhold",
            name="api_key",
            field=models.ForeignKey(
                blank=True,
                help_text="Only records made with this key or another key of its lineage (its rotations).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="governance.apikey",
            ),
        ),
        migrations.RunSQL(HELD, HELD_BY_KEY),
    ]
