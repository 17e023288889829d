"""The bridge's connection to the MQTT broker: settings and client construction.

Only the bridge connects: web requests, webhooks and commands queue gate messages in the
outbox (`access.outbox`) and never open a connection.
"""

from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion

from gate_agent.sockets import send_packets_immediately


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
