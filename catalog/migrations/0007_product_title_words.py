from django.db import migrations

# The fuzzy leg's first pass (knowledge/retrieval/fuzzy.py): titles holding every word of a misspelt query
# that some title of the tenant holds, spelt as typed (the 'simple' configuration: no stemming).
CREATE = """
    CREATE INDEX IF NOT EXISTS product_title_words
    ON catalog_product USING gin (to_tsvector('simple'::regconfig, title::text))
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_category_covering_indexes"),
    ]

    operations = [
        migrations.RunSQL(CREATE, "DROP INDEX IF EXISTS product_title_words"),
    ]
