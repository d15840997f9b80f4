from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0009_ingestion"),
    ]

    operations = [
        migrations.AddField(
            model_name="ingestionrun",
            name="origin",
            field=models.CharField(
                choices=[("feed", "Feed file"), ("api", "Bulk API"), ("events", "Change events")],
                default="feed",
                max_length=10,
            ),
        ),
    ]
