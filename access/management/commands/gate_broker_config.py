"""`manage.py gate_broker_config`: write Mosquitto's password file and ACL from the gate devices,
for the central broker or, with `--location`, for one location's own broker and its uplink."""

import os
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from access.broker import BrokerUser, acl_file, bridge_users, password_file
from access.location_brokers import LocationGates, location_user, uplink_config
from access.models import GateDevice
from locations.models import Location

DEFAULT_BRIDGE_USERNAME = "toolgate-bridge"
# The files `--location` writes into `--out-dir`.
LOCATION_FILES = ("toolgate.passwd", "toolgate.acl", "zz-toolgate-uplink.conf")


class Command(BaseCommand):
    help = (
        "Write the Mosquitto password file and ACL: each gate may touch only its own topics, "
        "each bridge (users <name> and <name>-events) the whole gate tree, each location broker "
        "in GATE_LOCATION_BROKERS (user location-<slug>) its own gates' topics. With --location, "
        "write that location's broker files instead: its gates' users and ACL and its uplink to "
        "the centre. Reload Mosquitto afterwards (SIGHUP; a new uplink needs a restart)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password-file", type=Path, help="The central broker's users.")
        parser.add_argument("--acl-file", type=Path, help="The central broker's ACL.")
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
        location = parser.add_argument_group("one location's broker")
        location.add_argument("--location", help="The location's slug (in GATE_LOCATION_BROKERS).")
        location.add_argument(
            "--out-dir", type=Path, help=f"Where to write {', '.join(LOCATION_FILES)}."
        )
        location.add_argument(
            "--central-address", help="The central broker's TLS listener, host:port."
        )
        location.add_argument(
            "--central-ca-file",
            default="/etc/mosquitto/certs/toolgate-central-ca.pem",
            help="On the location's host: the CA that signed the central broker's certificate.",
        )

    def handle(self, *args, **options) -> None:
        if options["location"]:
            self._location(options)
        elif options["password_file"] and options["acl_file"]:
            self._central(options)
        else:
            raise CommandError(
                "Give --password-file and --acl-file (the central broker), or --location, "
                "--out-dir and --central-address (a location's broker)."
            )

    def _central(self, options) -> None:
        bridge_password = os.environ.get(options["bridge_password_env"])
        if not bridge_password:
            raise CommandError(
                f"Set {options['bridge_password_env']} to the bridges' MQTT password."
            )
        # From the environment by default, so the one command the gate pages show rewrites
        # every bridge's users, not only the first one's.
        names = options["bridge_usernames"] or [
            name.strip()
            for name in os.environ.get("GATE_BRIDGE_USERNAMES", DEFAULT_BRIDGE_USERNAME).split(",")
            if name.strip()
        ]
        try:
            users = bridge_users(names, bridge_password)
        except ValueError as error:
            raise CommandError(str(error)) from None
        local = _location_gates()
        # A gate at a location with its own broker logs in there; the centre knows only that
        # broker's uplink user, which reaches those gates' topics and no others.
        users += [location_user(gates) for gates in local.values()]
        users += [
            _gate_user(device)
            for device in _enabled_gates().exclude(machine__location__slug__in=list(local))
        ]
        twice = [name for name, count in Counter(u.username for u in users).items() if count > 1]
        if twice:
            raise CommandError(f"Broker usernames given twice: {', '.join(sorted(twice))}")
        _write_private(options["password_file"], password_file(users))
        _write_private(options["acl_file"], acl_file(users))
        gates = sum(user.device_id is not None for user in users)
        self.stdout.write(
            f"Wrote {len(users)} broker users: {len(names)} bridge(s) "
            f"({', '.join(names)}, two connections each), {len(local)} location broker(s) "
            f"and {gates} gate(s)."
        )

    def _location(self, options) -> None:
        slug = options["location"]
        if not options["out_dir"] or not options["central_address"]:
            raise CommandError("--location needs --out-dir and --central-address.")
        local = _location_gates()
        if slug not in local:
            raise CommandError(
                f"Location {slug!r} is not in GATE_LOCATION_BROKERS (or does not exist): add it "
                "there and rewrite the central broker's files first, or its uplink is refused."
            )
        users = [
            _gate_user(device) for device in _enabled_gates().filter(machine__location__slug=slug)
        ]
        try:
            uplink = uplink_config(
                slug=slug,
                central_address=options["central_address"],
                ca_file=options["central_ca_file"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        out: Path = options["out_dir"]
        out.mkdir(parents=True, exist_ok=True)
        passwd, acl, bridge = (out / name for name in LOCATION_FILES)
        _write_private(passwd, password_file(users))
        _write_private(acl, acl_file(users) if users else "# No enabled gates at this location.\n")
        _write_private(bridge, uplink)
        self.stdout.write(
            f"Wrote {len(users)} gate user(s) and the uplink of location {slug} to "
            f"{options['central_address']} in {out}."
        )


def _enabled_gates():
    return GateDevice.objects.filter(enabled=True).order_by("device_id")


def _gate_user(device: GateDevice) -> BrokerUser:
    return BrokerUser(device.mqtt_username, device.mqtt_password_hash, device.device_id)


def _location_gates() -> dict[str, LocationGates]:
    """Every location named in GATE_LOCATION_BROKERS that exists, with its enabled gates."""
    slugs = Location.objects.filter(slug__in=settings.GATE_LOCATION_BROKERS).values_list(
        "slug", flat=True
    )
    return {
        slug: LocationGates(
            slug,
            tuple(
                _enabled_gates()
                .filter(machine__location__slug=slug)
                .values_list("device_id", flat=True)
            ),
        )
        for slug in slugs
    }


def _write_private(path: Path, text: str) -> None:
    """Write atomically, readable only by the owner (Mosquitto refuses world-readable files)."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text)
    temporary.chmod(0o600)
    temporary.replace(path)
