"""`manage.py gate_bridge`: run an MQTT bridge between the gates and the site (run one or more)."""

import logging
import signal
import socket

from django.conf import settings
from django.core.management.base import BaseCommand

from access.bridge import BridgeRunner, GateBridge
from access.mqtt import BrokerSettings

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Answer gates' badge scans and record their reports (broker from GATE_BROKER_URL)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--client-id",
            default=f"toolgate-bridge-{socket.gethostname()}",
            help="Stable MQTT client id: a restarted bridge resumes its queued messages.",
        )

    def handle(self, *args, client_id: str, **options) -> None:
        runner = BridgeRunner(GateBridge(), BrokerSettings.from_settings(), client_id=client_id)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: runner.stop())
        self.stdout.write(f"Gate bridge {client_id} connecting to {settings.GATE_BROKER_URL}")
        runner.run(housekeeping_seconds=settings.GATE_ALLOWLIST_REFRESH_SECONDS)
