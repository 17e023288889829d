"""`manage.py gate_dev_broker`: an MQTT broker for development on GATE_BROKER_URL's loopback port.

Mosquitto with deploy/mosquitto/dev.conf when it is installed, else the embedded development
broker (`access.devbroker`); when something already listens there, that is used and nothing starts.
"""

import asyncio
import getpass
import os
import shutil
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from access.devbroker import DevBroker, is_loopback
from access.devbroker.launch import (
    BrokerChoice,
    broker_choice,
    is_listening,
    mosquitto_dev_config,
)
from access.mqtt import BrokerSettings

DEV_CONF = "deploy/mosquitto/dev.conf"


class Command(BaseCommand):
    help = (
        "Run a development MQTT broker on GATE_BROKER_URL: Mosquitto when installed, else the "
        "embedded one; reuses a broker already listening there."
    )

    def handle(self, *args, **options) -> None:
        broker = BrokerSettings.from_settings()
        if broker.tls or not is_loopback(broker.host):
            raise CommandError(
                f"GATE_BROKER_URL is {settings.GATE_BROKER_URL}: a development broker serves "
                "plain MQTT on a loopback address only."
            )
        where = f"{broker.host}:{broker.port}"
        mosquitto = shutil.which("mosquitto")
        choice = broker_choice(
            listening=is_listening(broker.host, broker.port), mosquitto=mosquitto
        )
        if choice is BrokerChoice.EXISTING:
            self.stdout.write(f"An MQTT broker already listens on {where}: using it.")
            return
        if choice is BrokerChoice.MOSQUITTO:
            self._exec_mosquitto(mosquitto, broker)
        self.stdout.write(
            f"Mosquitto is not installed: starting the embedded development broker on {where}."
        )
        asyncio.run(_serve(broker.host, broker.port))

    def _exec_mosquitto(self, binary: str, broker: BrokerSettings) -> None:
        base_dir = settings.BASE_DIR
        state = base_dir / "var" / "mosquitto"
        state.mkdir(parents=True, exist_ok=True)
        config = state / "dev.conf"
        config.write_text(
            mosquitto_dev_config(
                (base_dir / DEV_CONF).read_text(),
                host=broker.host,
                port=broker.port,
                base_dir=base_dir,
                user=getpass.getuser(),
            )
        )
        self.stdout.write(
            f"Mosquitto ({binary}) on {broker.host}:{broker.port}, from {DEV_CONF} "
            f"(written to {config.relative_to(base_dir)})."
        )
        sys.stdout.flush()
        os.execv(binary, [binary, "-c", str(config)])  # noqa: S606 - the installed Mosquitto


async def _serve(host: str, port: int) -> None:
    broker = DevBroker(host=host, port=port)
    try:
        await broker.start()
    except OSError as error:
        raise CommandError(f"Cannot listen on {host}:{port}: {error}") from error
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await broker.close()
