"""`manage.py gate_broker_config`: write Mosquitto's password file and ACL from the gate devices."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from access.broker import BrokerUser, acl_file, mosquitto_password_hash, password_file
from access.models import GateDevice


class Command(BaseCommand):
    help = (
        "Write the Mosquitto password file and ACL: each gate may touch only its own topics, "
        "the bridge user the whole gate tree. Reload Mosquitto afterwards (SIGHUP)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password-file", required=True, type=Path)
        parser.add_argument("--acl-file", required=True, type=Path)
        parser.add_argument("--bridge-username", default="toolgate-bridge")
        parser.add_argument(
            "--bridge-password-env",
            default="GATE_BRIDGE_PASSWORD",
            help="Environment variable holding the bridge's MQTT password.",
        )

    def handle(self, *args, **options) -> None:
        bridge_password = os.environ.get(options["bridge_password_env"])
        if not bridge_password:
            raise CommandError(
                f"Set {options['bridge_password_env']} to the bridge's MQTT password."
            )
        users = [
            BrokerUser(options["bridge_username"], mosquitto_password_hash(bridge_password), None)
        ]
        users += [
            BrokerUser(device.mqtt_username, device.mqtt_password_hash, device.device_id)
            for device in GateDevice.objects.filter(enabled=True).order_by("device_id")
        ]
        _write_private(options["password_file"], password_file(users))
        _write_private(options["acl_file"], acl_file(users))
        self.stdout.write(f"Wrote {len(users)} broker users ({len(users) - 1} gates).")


def _write_private(path: Path, text: str) -> None:
    """Write atomically, readable only by the owner (Mosquitto refuses world-readable files)."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text)
    temporary.chmod(0o600)
    temporary.replace(path)
