from django.db import migrations

DEFAULT_DIMENSIONS = 384  # all-MiniLM-L6-v2, the bundled model


def create_default_space(apps, schema_editor):
    EmbeddingSpace = apps.get_model("knowledge", "EmbeddingSpace")
    if EmbeddingSpace.objects.exists():
        return
    from django.utils import timezone

    space = EmbeddingSpace.objects.create(
        name="all-MiniLM-L6-v2", model_path="", version=1, dimensions=DEFAULT_DIMENSIONS, state="active",
        activated_at=timezone.now(),
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS chunk_embedding_hnsw_{space.pk} ON knowledge_chunkembedding "
        f"USING hnsw ((embedding::vector({DEFAULT_DIMENSIONS})) vector_cosine_ops) WHERE space_id = {space.pk}"
    )


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(create_default_space, migrations.RunPython.noop)]
