"""The site's connection to the MQTT broker: settings, client construction, one-off publishing."""

from __future__ import annotations

import logging
import ssl
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion

from gate_agent.sockets import send_packets_immediately

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    ca_file: str | None

    @classmethod
    def from_settings(cls) -> BrokerSettings:
        """From GATE_BROKER_URL, e.g. `mqtt://127.0.0.1:1883` or `mqtts://user:pw@broker:8883`."""
        url = urlparse(settings.GATE_BROKER_URL)
        if url.scheme not in {"mqtt", "mqtts"}:
            raise ValueError(
                f"GATE_BROKER_URL must start with mqtt:// or mqtts://, not {url.scheme!r}"
            )
        tls = url.scheme == "mqtts"
        return cls(
            host=url.hostname or "127.0.0.1",
            port=url.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            ca_file=settings.GATE_BROKER_CA_FILE or None,
        )


def make_client(broker: BrokerSettings, *, client_id: str | None = None) -> mqtt.Client:
    """A paho MQTT v5 client with the broker's credentials and TLS applied (not yet connected)."""
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id or f"toolgate-site-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv5,
    )
    send_packets_immediately(client)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(ca_certs=broker.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    return client


def publish_now(messages: list[tuple[str, bytes, bool]], *, timeout: float = 5.0) -> bool:
    """Publish (topic, payload, retain) messages at QoS 1 and wait for the broker's PUBACKs.

    Used by web requests (switch-off pushes, allow-list refreshes). Returns False, and logs,
    when the broker cannot be reached: the caller's own change is already committed, and the
    gate still switches off at its grant's end.
    """
    if not messages:
        return True
    broker = BrokerSettings.from_settings()
    client = make_client(broker)
    try:
        client.connect(broker.host, broker.port, keepalive=30)
        client.loop_start()
        infos = [
            client.publish(topic, payload, qos=1, retain=retain)
            for topic, payload, retain in messages
        ]
        for info in infos:
            info.wait_for_publish(timeout=timeout)
        return all(info.is_published() for info in infos)
    except (OSError, RuntimeError, ValueError) as error:
        log.error(
            "Could not publish %d gate message(s) to %s:%s: %s",
            len(messages),
            broker.host,
            broker.port,
            error,
        )
        return False
    finally:
        client.disconnect()
        client.loop_stop()
