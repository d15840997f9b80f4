"""Keyword packs record where their delta begins (`delta_from`): the oldest transaction open at the build,
not a fixed hour before it. Packs built before keep the hour they were built with."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0007_keyword_packs")]

    operations = [
        migrations.AddField(model_name="keywordpack", name="delta_from", field=models.DateTimeField(null=True)),
        migrations.RunSQL(
            "UPDATE knowledge_keywordpack SET delta_from = built_from - interval '1 hour'", migrations.RunSQL.noop
        ),
        migrations.AlterField(
            model_name="keywordpack",
            name="delta_from",
            field=models.DateTimeField(
                verbose_name="read live since",
                help_text="Chunks created from this instant on are read from the postings table, not from the pack."
            ),
        ),
    ]
