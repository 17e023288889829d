"""`manage.py gate_broker_config`: write Mosquitto's password file and ACL from the gate devices."""

import os
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from access.broker import BrokerUser, acl_file, bridge_users, password_file
from access.models import GateDevice

DEFAULT_BRIDGE_USERNAME = "toolgate-bridge"


class Command(BaseCommand):
    help = (
        "Write the Mosquitto password file and ACL: each gate may touch only its own topics, "
        "each bridge (users <name> and <name>-events) the whole gate tree. Reload Mosquitto "
        "afterwards (SIGHUP)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password-file", required=True, type=Path)
        parser.add_argument("--acl-file", required=True, type=Path)
        parser.add_argument(
            "--bridge-username",
            action="append",
            dest="bridge_usernames",
            help=(
                "A bridge's username, once per bridge (the username in its GATE_BROKER_URL). "
                "Default: the comma-separated GATE_BRIDGE_USERNAMES, else "
                f"{DEFAULT_BRIDGE_USERNAME}."
            ),
        )
        parser.add_argument(
            "--bridge-password-env",
            default="GATE_BRIDGE_PASSWORD",
            help="Environment variable holding the bridges' MQTT password.",
        )

    def handle(self, *args, bridge_usernames: list[str] | None, **options) -> None:
        bridge_password = os.environ.get(options["bridge_password_env"])
        if not bridge_password:
            raise CommandError(
                f"Set {options['bridge_password_env']} to the bridges' MQTT password."
            )
        # From the environment by default, so the one command the gate pages show rewrites
        # every bridge's users, not only the first one's.
        names = bridge_usernames or [
            name.strip()
            for name in os.environ.get("GATE_BRIDGE_USERNAMES", DEFAULT_BRIDGE_USERNAME).split(",")
            if name.strip()
        ]
        try:
            users = bridge_users(names, bridge_password)
        except ValueError as error:
            raise CommandError(str(error)) from None
        users += [
            BrokerUser(device.mqtt_username, device.mqtt_password_hash, device.device_id)
            for device in GateDevice.objects.filter(enabled=True).order_by("device_id")
        ]
        twice = [name for name, count in Counter(u.username for u in users).items() if count > 1]
        if twice:
            raise CommandError(f"Broker usernames given twice: {', '.join(sorted(twice))}")
        _write_private(options["password_file"], password_file(users))
        _write_private(options["acl_file"], acl_file(users))
        gates = sum(user.device_id is not None for user in users)
        self.stdout.write(
            f"Wrote {len(users)} broker users: {len(names)} bridge(s) "
            f"({', '.join(names)}, two connections each) and {gates} gate(s)."
        )


def _write_private(path: Path, text: str) -> None:
    """Write atomically, readable only by the owner (Mosquitto refuses world-readable files)."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text)
    temporary.chmod(0o600)
    temporary.replace(path)
