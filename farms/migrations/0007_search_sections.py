"""Catalogue search: `search_document` in ranked sections (name |d description |c categories
|p ward |h household), so a listing found only through its household's name ranks last.

Recomputes every listing's search columns; nothing in the schema changes.
"""

from django.db import migrations


def fill(apps, schema_editor):
    from farms.search import refresh_search_columns

    Product = apps.get_model("farms", "Product")
    refresh_search_columns(Product.objects.using(schema_editor.connection.alias).all())


class Migration(migrations.Migration):
    dependencies = [("farms", "0006_category_processed")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
