"""Load the 103 wards of Cần Thơ and their former names from geo/data/cantho_units.json."""
from django.db import migrations

from marketplace.geo.loader import load_units, unload_units


def _models(apps):
    return {
        "ward_model": apps.get_model("geo", "Ward"),
        "alias_model": apps.get_model("geo", "WardAlias"),
    }


def load(apps, schema_editor):
    load_units(**_models(apps))


def unload(apps, schema_editor):
    unload_units(**_models(apps))


class Migration(migrations.Migration):

    dependencies = [
        ("geo", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load, unload),
    ]
