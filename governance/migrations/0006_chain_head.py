"""ChainHead: each tenant's last chain link, so a removed tail and a fully purged chain stay verifiable.

Also merges the two 0003 leaves (0004_hold_guards, 0005_reviewer_group). A trigger lets a head only move
forward by one link (the row may still be deleted with its tenant; verify_records reports a missing head).
"""

import django.db.models.deletion
from django.db import migrations, models

HEAD_GUARD = """
CREATE OR REPLACE FUNCTION governance_chainhead_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.seq <> OLD.seq + 1 THEN
        RAISE EXCEPTION 'chain head of tenant % can only advance by one link', OLD.tenant_id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER governance_chainhead_forward
    BEFORE UPDATE ON governance_chainhead
    FOR EACH ROW EXECUTE FUNCTION governance_chainhead_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS governance_chainhead_forward ON governance_chainhead;
DROP FUNCTION IF EXISTS governance_chainhead_guard();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_tenant_review_permission"),
        ("governance", "0004_hold_guards"),
        ("governance", "0005_reviewer_group"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                (
                    "tenant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="catalog.tenant",
                    ),
                ),
                ("seq", models.BigIntegerField()),
                ("record_hash", models.CharField(max_length=64)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunSQL(HEAD_GUARD, DROP),
    ]
