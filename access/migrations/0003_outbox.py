"""The gate outbox: GateCommand becomes GateMessage (commands and allow-lists, with delivery
state), and emergency stops lock machines out until cleared.

Commands recorded before the outbox were pushed once without an acknowledgement: they are kept as
settled history with their delivery unknown.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def settle_old_commands(apps, schema_editor):
    GateMessage = apps.get_model("access", "GateMessage")
    for message in GateMessage.objects.all():
        message.command_id = f"legacy-command-{message.pk:012d}"
        message.state = "not_delivered"
        message.give_up_at = message.created_at
        message.settled_at = message.created_at
        message.last_error = "Pushed once before the outbox existed: delivery unknown."
        message.save()


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0002_gate_changes"),
        ("equipment", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel("GateCommand", "GateMessage"),
        migrations.AlterField(
            model_name="gatemessage",
            name="device",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="outbox",
                to="access.gatedevice",
            ),
        ),
        migrations.AlterField(
            model_name="gatemessage",
            name="action",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="gatemessage",
            name="reason",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="kind",
            field=models.CharField(
                choices=[("command", "Command"), ("allowlist", "Allow-list")],
                default="command",
                max_length=20,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="command_id",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="allowlist_version",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="gatemessage", name="payload", field=models.TextField(blank=True)
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="signing_secret",
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="state",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("delivered", "Delivered to the broker"),
                    ("acknowledged", "Acknowledged by the gate"),
                    ("superseded", "Superseded by a newer allow-list"),
                    ("not_delivered", "Not delivered"),
                ],
                default="queued",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="attempts",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="next_attempt_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="give_up_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="delivered_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="acknowledged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="settled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="gatemessage",
            name="last_error",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.RunPython(settle_old_commands, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="gatemessage",
            index=models.Index(
                condition=models.Q(("state__in", ["queued", "delivered"])),
                fields=["next_attempt_at"],
                name="gate_outbox_due",
            ),
        ),
        migrations.AddConstraint(
            model_name="gatemessage",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "allowlist"), ("command_id__isnull", False), _connector="OR"),
                name="gate_command_has_an_id",
            ),
        ),
        migrations.AddField(
            model_name="accessevent",
            name="request_nonce",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddConstraint(
            model_name="accessevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("request_nonce__isnull", False)),
                fields=("device", "request_nonce"),
                name="one_answer_per_gate_request",
            ),
        ),
        migrations.CreateModel(
            name="EmergencyStop",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("pressed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("cleared_at", models.DateTimeField(blank=True, null=True)),
                ("clear_reason", models.CharField(blank=True, max_length=500)),
                (
                    "cleared_by",
                    models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL),
                ),
                (
                    "machine",
                    models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="emergency_stops", to="equipment.machine"),
                ),
                (
                    "pressed_by",
                    models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL),
                ),
            ],
            options={"ordering": ["-pressed_at", "-id"]},
        ),
        migrations.AddConstraint(
            model_name="emergencystop",
            constraint=models.UniqueConstraint(
                condition=models.Q(("cleared_at__isnull", True)),
                fields=("machine",),
                name="one_open_emergency_stop_per_machine",
            ),
        ),
        migrations.AddConstraint(
            model_name="emergencystop",
            constraint=models.CheckConstraint(
                condition=models.Q(("cleared_at__isnull", True), models.Q(("clear_reason", ""), _negated=True), _connector="OR"),
                name="emergency_stop_cleared_with_a_reason",
            ),
        ),
    ]
