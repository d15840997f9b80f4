import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0007_product_title_words'),
        ('knowledge', '0011_document_question'),
    ]

    operations = [
        migrations.CreateModel(
            name='EntityVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('entity', models.CharField(max_length=400)),
                ('version', models.BigIntegerField(blank=True, null=True)),
                ('occurred_at', models.DateTimeField(blank=True, null=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name='EventSecret',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('ciphertext', models.BinaryField()),
                ('fingerprint', models.CharField(help_text="The start of the secret's SHA-256: tells secrets apart, reveals nothing.", max_length=12)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('expires_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['source', '-created_at'],
            },
        ),
        migrations.CreateModel(
            name='EventSource',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.SlugField(help_text='The <source> in /api/v1/events/<source>/: unique across tenants.', max_length=100, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True)),
            ],
            options={
                'ordering': ['tenant', 'name'],
            },
        ),
        migrations.CreateModel(
            name='ReceivedEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event_id', models.CharField(max_length=200)),
                ('event_type', models.CharField(max_length=20)),
                ('entity', models.CharField(help_text='Record type and natural key: `price|retail|SKU-1`.', max_length=400)),
                ('version', models.BigIntegerField(blank=True, null=True)),
                ('occurred_at', models.DateTimeField(blank=True, null=True)),
                ('outcome', models.CharField(choices=[('applied', 'Applied'), ('stale', 'Stale (not newer than the last applied)')], max_length=10)),
                ('action', models.CharField(blank=True, help_text='new, changed, deleted or unchanged.', max_length=10)),
                ('received_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['-received_at'],
            },
        ),
        migrations.AddConstraint(
            model_name='ingestionrun',
            constraint=models.UniqueConstraint(condition=models.Q(('origin', 'events')), fields=('tenant', 'source'), name='one_event_run_per_source_hour'),
        ),
        migrations.AddField(
            model_name='eventsource',
            name='tenant',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='event_sources', to='catalog.tenant'),
        ),
        migrations.AddField(
            model_name='eventsecret',
            name='source',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='secrets', to='knowledge.eventsource'),
        ),
        migrations.AddField(
            model_name='entityversion',
            name='source',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='entity_versions', to='knowledge.eventsource'),
        ),
        migrations.AddField(
            model_name='receivedevent',
            name='run',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='knowledge.ingestionrun'),
        ),
        migrations.AddField(
            model_name='receivedevent',
            name='source',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='knowledge.eventsource'),
        ),
        migrations.AddConstraint(
            model_name='entityversion',
            constraint=models.UniqueConstraint(fields=('source', 'entity'), name='entity_version_once_per_source'),
        ),
        migrations.AddConstraint(
            model_name='entityversion',
            constraint=models.CheckConstraint(condition=models.Q(('version__isnull', False), ('occurred_at__isnull', False), _connector='OR'), name='entity_version_ordered'),
        ),
        migrations.AddConstraint(
            model_name='receivedevent',
            constraint=models.UniqueConstraint(fields=('source', 'event_id'), name='event_id_once_per_source'),
        ),
    ]
