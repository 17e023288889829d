"""Every class series and session has a location (existing ones moved into the default location in
locations.0002_default_location)."""

import django.db.models.deletion
from django.db import migrations, models

import locations.models


def _location(related_name, **default):
    return models.ForeignKey(
        **default,
        help_text="Where the class meets; its times are in the location's zone.",
        on_delete=django.db.models.deletion.PROTECT,
        related_name=related_name,
        to="locations.location",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0003_locations"),
        ("locations", "0002_default_location"),
    ]

    # NOT NULL first, with no default: a callable default would be called here, by the migration,
    # and create a location on a fresh install. Then the default, which Django keeps in Python.
    operations = [
        migrations.AlterField(
            model_name="classseries", name="location", field=_location("class_series")
        ),
        migrations.AlterField(
            model_name="classsession", name="location", field=_location("class_sessions")
        ),
        migrations.AlterField(
            model_name="classseries",
            name="location",
            field=_location("class_series", default=locations.models.default_location_id),
        ),
        migrations.AlterField(
            model_name="classsession",
            name="location",
            field=_location("class_sessions", default=locations.models.default_location_id),
        ),
    ]
