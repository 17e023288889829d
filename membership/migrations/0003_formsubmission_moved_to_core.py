"""Form tokens moved to core.FormSubmission (core 0001): this drops membership's old table.

Its rows are not copied: tokens are short-lived (they guard against the same form being sent
twice within moments), so losing the handled ones at deploy time is harmless.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
        ("membership", "0002_billing"),
    ]

    operations = [
        migrations.DeleteModel(
            name="FormSubmission",
        ),
    ]
