"""The sizes of a cube cell's sets, stored so a reader that needs no union reads no bitmap."""

from django.db import migrations, models
from pyroaring import BitMap

BATCH = 2000


def sizes(apps, schema_editor):
    cube = apps.get_model("reports", "SalesCube")
    cells = cube.objects.values_list("pk", "orders", "buyers", "farms").order_by("pk")
    batch = []
    with schema_editor.connection.cursor() as cursor:
        for pk, *sets in cells.iterator(chunk_size=BATCH):
            batch.append((*(len(BitMap.deserialize(bytes(one))) for one in sets), pk))
            if len(batch) == BATCH:
                _update(cursor, batch)
                batch = []
        _update(cursor, batch)


def _update(cursor, batch: list) -> None:
    # One statement per row, sent together (bulk_update's CASE over thousands of ids is quadratic).
    cursor.executemany(
        "UPDATE reports_salescube SET orders_n = %s, buyers_n = %s, farms_n = %s WHERE id = %s", batch
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_sales_cube"),
    ]

    operations = [
        migrations.AddField("salescube", "orders_n", models.PositiveIntegerField(default=0)),
        migrations.AddField("salescube", "buyers_n", models.PositiveIntegerField(default=0)),
        migrations.AddField("salescube", "farms_n", models.PositiveIntegerField(default=0)),
        migrations.RunPython(sizes, migrations.RunPython.noop),
    ]
