"""`manage.py gate_demo`, what `make gate-demo` runs: the demo gate on Laser cutter A, simulated in
this terminal (type a badge UID, press Enter), against the broker and bridge `make run` started.
`--relay` and `--reader` pick the backend the simulator runs on its twin of the device."""

import os
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from access.demo import DEMO_DEVICE_ID
from access.management.commands.run_dev import is_listening
from access.models import GateDevice
from access.mqtt import BrokerSettings
from gate_agent.__main__ import SECRET_ENV
from gate_agent.simulator import SIMULATED_READERS, SIMULATED_RELAYS


class Command(BaseCommand):
    help = "Run the demo gate (laser-a) in this terminal; needs `make run` in another one."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--relay", choices=SIMULATED_RELAYS, default="simulated")
        parser.add_argument("--reader", choices=SIMULATED_READERS, default="stdin")

    def handle(self, *args, **options) -> None:
        broker = BrokerSettings.from_settings()
        if broker.tls or broker.username:
            raise CommandError("The demo gate talks plain, anonymous MQTT to a local broker only.")
        if not is_listening(broker.host, broker.port):
            raise CommandError(
                f"No MQTT broker answers on {broker.host}:{broker.port}: start `make run` first "
                "(in another terminal); it runs the broker and the gate bridge with the site."
            )
        site = urlsplit(settings.SITE_URL)
        site_port = site.port or (443 if site.scheme == "https" else 80)
        if site.hostname and not is_listening(site.hostname, site_port):
            # `make run` runs the site and the gate bridge together: with the site down the
            # bridge is too, and every scan would fall back to the (empty) offline list.
            raise CommandError(
                f"The broker answers, but the site's gate bridge does not ({settings.SITE_URL} is "
                "not answering): start `make run` first (in another terminal), then run "
                "`make gate-demo` again."
            )
        device = GateDevice.objects.filter(device_id=DEMO_DEVICE_ID).first()
        if device is None:
            raise CommandError("No demo gate yet: start `make run` first; it seeds the demo data.")
        argv = [
            sys.executable,
            "-m",
            "gate_agent",
            "--simulate",
            "--device-id",
            device.device_id,
            "--state-dir",
            str(settings.BASE_DIR / "var" / "gate-demo"),
            "--host",
            broker.host,
            "--port",
            str(broker.port),
            "--relay",
            options["relay"],
            "--reader",
            options["reader"],
        ]
        sys.stdout.flush()
        # The secret travels in the environment, never on the command line.
        os.execve(sys.executable, argv, {**os.environ, SECRET_ENV: device.secret})  # noqa: S606
