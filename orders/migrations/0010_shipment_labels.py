"""Label the shipments booked before labels existed with their order's number (issue #22).

Couriers read a parcel by its order number and household; shipments booked earlier carry only
their key (`farm-order-<id>`), so they get the number of the order whose part they carry.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def label_shipments(apps, schema_editor):
    Shipment = apps.get_model("logistics", "Shipment")
    FarmOrder = apps.get_model("orders", "FarmOrder")
    number = FarmOrder.objects.filter(shipment=OuterRef("pk")).values("order__number")[:1]
    Shipment.objects.filter(label="", farm_order__isnull=False).update(label=Subquery(number))


class Migration(migrations.Migration):
    dependencies = [
        ("logistics", "0006_shipment_label"),
        ("orders", "0009_problem_photo_private"),
    ]

    operations = [migrations.RunPython(label_shipments, migrations.RunPython.noop)]
