"""Handled one-time form tokens, now in core (they were membership.FormSubmission).

No rows are copied from membership's table: a token only matters for the seconds to minutes in
which the same form might be sent twice. A form submitted again across this migration could be
handled a second time; no other row is affected.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="FormSubmission",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.UUIDField(unique=True)),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
            ],
        ),
    ]
