"""`manage.py gate_bridge`: run an MQTT bridge between the gates and the site (run one or more)."""

import logging
import signal
import socket

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from access.bridge import BridgeRunner, GateBridge
from access.broker import EVENTS_SUFFIX
from access.mqtt import BrokerSettings

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Answer gates' badge scans and record their reports (broker from GATE_BROKER_URL)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--client-id",
            help=(
                "Stable MQTT client id for a broker without credentials (default "
                "toolgate-bridge-<hostname>): a restarted bridge resumes its queued messages. "
                "With credentials in GATE_BROKER_URL the client id is the username."
            ),
        )

    def handle(self, *args, client_id: str | None, **options) -> None:
        # A broker the bridge cannot even set up for is a clear error here, in the one process
        # that connects: web requests only queue messages, and staff see them wait.
        try:
            broker = BrokerSettings.from_settings()
            client_id = _client_id(broker, client_id)
            runner = BridgeRunner(GateBridge(), broker, client_id=client_id)
        except (ValueError, OSError) as error:
            raise CommandError(
                f"Cannot set up the gate bridge (GATE_BROKER_URL, GATE_BROKER_CA_FILE): {error}"
            ) from error
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: runner.stop())
        self.stdout.write(
            f"Gate bridge {client_id} (and {client_id}{EVENTS_SUFFIX}) connecting to "
            f"{broker.host}:{broker.port}"
        )
        runner.run(housekeeping_seconds=settings.GATE_ALLOWLIST_REFRESH_SECONDS)


def _client_id(broker: BrokerSettings, requested: str | None) -> str:
    """The production broker makes each client id its username, so with credentials the
    username is the bridge's name: its live connection logs in as it, the durable one as
    `<username>-events` (both written by gate_broker_config)."""
    if broker.username is None:
        return requested or f"toolgate-bridge-{socket.gethostname()}"
    if requested not in (None, broker.username):
        raise CommandError(
            f"--client-id {requested} differs from the username {broker.username} in "
            "GATE_BROKER_URL: the broker gives each connection its username as client id."
        )
    return broker.username
