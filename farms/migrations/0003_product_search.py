"""Catalogue search: denormalised search columns on listings, filled for existing rows.

On PostgreSQL also the pg_trgm extension (typo tolerance) and a trigram GIN index on
`search_document`, which serves the `LIKE '% word %'` whole-word matching. SQLite skips both.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

INDEX = "farms_product_search_document_trgm"


class CreateTrigramExtension(TrigramExtension):
    """pg_trgm on PostgreSQL (CreateExtension skips other databases going forwards).

    Left installed when unapplied: Django's backwards step queries pg_extension even on
    SQLite, and other code may use the extension by then.
    """

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


def fill(apps, schema_editor):
    from farms.search import refresh_search_columns

    Product = apps.get_model("farms", "Product")
    refresh_search_columns(Product.objects.using(schema_editor.connection.alias).all())


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON farms_product USING gin (search_document gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("farms", "0002_seed_categories"),
        ("geo", "0002_load_wards"),
    ]

    operations = [
        CreateTrigramExtension(),
        migrations.AddField(
            model_name="product",
            name="search_name",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="product",
            name="search_name_folded",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="product",
            name="search_document",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
