"""Machine.area is now an Area of the machine's location (the free text moved there in
locations.0002_default_location), and every machine has a location."""

import django.db.models.deletion
from django.db import migrations, models

import locations.models


class Migration(migrations.Migration):
    dependencies = [
        ("equipment", "0003_machine_required_checkout"),
        ("locations", "0002_default_location"),
    ]

    operations = [
        migrations.RemoveField(model_name="machine", name="area"),
        migrations.RenameField(model_name="machine", old_name="area_ref", new_name="area"),
        # NOT NULL first, with no default: a callable default would be called here, by the
        # migration, and create a location on a fresh install. Then the default, which Django
        # keeps in Python only.
        migrations.AlterField(
            model_name="machine",
            name="location",
            field=models.ForeignKey(
                help_text="The location it stands at: its hours, bookings and gate times are in its zone.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="machines",
                to="locations.location",
            ),
        ),
        migrations.AlterField(
            model_name="machine",
            name="location",
            field=models.ForeignKey(
                default=locations.models.default_location_id,
                help_text="The location it stands at: its hours, bookings and gate times are in its zone.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="machines",
                to="locations.location",
            ),
        ),
    ]
