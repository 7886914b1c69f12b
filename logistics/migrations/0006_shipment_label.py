"""A shipment's label: what people read on the parcel (issue #22); the reference stays a key."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('logistics', '0005_shipment_deliver_on'),
    ]

    operations = [
        migrations.AddField(
            model_name='shipment',
            name='label',
            field=models.CharField(blank=True, default='', max_length=64, verbose_name='label on the parcel'),
        ),
    ]
