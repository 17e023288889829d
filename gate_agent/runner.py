"""Runs an `Agent` for real: paho-mqtt (MQTT v5) on its network thread, the badge reader on its
own thread, and one loop that feeds both into the agent and ticks it.

The agent itself is single-threaded: the other threads only put work on a queue.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from gate_agent import __version__
from gate_agent.agent import Agent
from gate_agent.config import AgentConfig
from gate_agent.interfaces import BadgeReader, Clock, Display, Indicator, PowerMeter, Relay
from gate_agent.protocol import (
    AGENT_SUBSCRIBES,
    STATUS_OFFLINE,
    STATUS_ONLINE,
    Status,
    Topic,
    gate_topic,
)
from gate_agent.sockets import send_packets_immediately

log = logging.getLogger(__name__)
TICK_SECONDS = 0.2
QOS = 1


class MqttTransport:
    """The agent's `Transport` over a paho client, calling `on_ack` when PUBACK arrives."""

    def __init__(self, client: mqtt.Client) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._waiting: dict[int, Callable[[], None]] = {}
        # PUBACKs that beat `publish()` returning their mid: mid -> accepted by the broker.
        self._early: dict[int, bool] = {}
        client.on_publish = self._on_publish

    @property
    def connected(self) -> bool:
        return self._client.is_connected()

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        retain: bool = False,
        on_ack: Callable[[], None] | None = None,
    ) -> bool:
        if not self._client.is_connected():
            return False
        info = self._client.publish(topic, payload, qos=QOS, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        with self._lock:
            accepted = self._early.pop(info.mid, None)
            if accepted is None:
                self._waiting[info.mid] = on_ack or _nothing
        if accepted and on_ack is not None:
            on_ack()
        return True

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        accepted = not reason.is_failure
        if not accepted:
            # Not acknowledged means not sent: events stay in the log for the next upload.
            log.warning("Broker refused publish %d: %s", mid, reason)
        with self._lock:
            callback = self._waiting.pop(mid, None)
            if callback is None:
                self._early[mid] = accepted
        if callback is not None and accepted:
            callback()


def _nothing() -> None:
    """An acknowledgement nobody waits for; an idle turn of the loop."""


class Runner:
    def __init__(
        self,
        config: AgentConfig,
        *,
        relay: Relay,
        reader: BadgeReader,
        indicator: Indicator,
        clock: Clock = time.time,
        meter: PowerMeter | None = None,
        display: Display | None = None,
    ) -> None:
        from gate_agent.hardware import usage_policy

        self.config, self._reader = config, reader
        self._work: queue.Queue[Callable[[], None]] = queue.Queue()
        self.client = _make_client(config)
        self.transport = MqttTransport(self.client)
        self.agent = Agent(
            device_id=config.device_id,
            secret=config.secret,
            relay=relay,
            transport=self.transport,
            state_dir=config.state_dir,
            clock=clock,
            indicator=indicator,
            request_timeout=config.request_timeout,
            warning_seconds=config.warning_minutes * 60,
            allowlist_max_age=config.allowlist_max_age_hours * 3600,
            heartbeat_interval=config.heartbeat_seconds,
            meter=meter,
            usage=usage_policy(config.power),
            display=display,
            zone=None if config.timezone is None else ZoneInfo(config.timezone),
            relay_retry_seconds=config.relay.retry_seconds,
            language=config.language,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def run(self, stop: threading.Event) -> None:
        """Connect (retrying forever) and serve until `stop` is set."""
        broker = self.config.broker
        log.info("Gate %s connecting to %s:%d", self.config.device_id, broker.host, broker.port)
        self.client.connect_async(broker.host, broker.port, keepalive=broker.keepalive)
        self.client.loop_start()
        reader = threading.Thread(target=self._read_badges, args=(stop,), daemon=True)
        reader.start()
        try:
            while not stop.is_set():
                try:
                    work = self._work.get(timeout=TICK_SECONDS)
                except queue.Empty:
                    work = _nothing
                work()
                self.agent.tick()
        finally:
            self._stop(reader)

    def _stop(self, reader: threading.Thread) -> None:
        self.agent.shutdown()
        if self.transport.connected:
            info = self.client.publish(self._status_topic, self._status(STATUS_OFFLINE), QOS, True)
            info.wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()
        reader.join(timeout=2)
        self._reader.close()

    def _read_badges(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                uid = self._reader.read(0.5)
            except Exception:
                # A reader unplugged or failing must not stop the relay logic; retry shortly.
                log.exception("Badge reader failed; retrying")
                stop.wait(1.0)
                continue
            if uid:
                self._work.put(functools.partial(self.agent.on_badge, uid))

    @property
    def _status_topic(self) -> str:
        return gate_topic(self.config.device_id, Topic.STATUS)

    def _status(self, state: str) -> bytes:
        return Status(device_id=self.config.device_id, state=state, firmware=__version__).to_json()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        props: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.error("Broker refused the connection: %s", reason)
            return
        log.info("Connected to the broker")
        for kind in AGENT_SUBSCRIBES:
            client.subscribe(gate_topic(self.config.device_id, kind), qos=QOS)
        client.publish(self._status_topic, self._status(STATUS_ONLINE), qos=QOS, retain=True)
        self._work.put(self.agent.on_connected)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        props: Properties | None,
    ) -> None:
        log.warning("Disconnected from the broker: %s", reason)
        self._work.put(self.agent.on_disconnected)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._work.put(functools.partial(self.agent.on_message, message.topic, message.payload))


def client_id(config: AgentConfig) -> str:
    """The gate's MQTT client id: its broker username, which the production broker makes the
    client id anyway (so no other user can take the gate's connection over), else one from the
    device id for a broker without credentials."""
    return config.broker.username or f"toolgate-gate-{config.device_id}"


def _make_client(config: AgentConfig) -> mqtt.Client:
    broker = config.broker
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id(config),
        protocol=mqtt.MQTTv5,
    )
    send_packets_immediately(client)
    offline = Status(device_id=config.device_id, state=STATUS_OFFLINE, firmware=__version__)
    client.will_set(
        gate_topic(config.device_id, Topic.STATUS), offline.to_json(), qos=QOS, retain=True
    )
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(
            ca_certs=None if broker.ca_file is None else str(broker.ca_file),
            certfile=None if broker.client_cert is None else str(broker.client_cert),
            keyfile=None if broker.client_key is None else str(broker.client_key),
        )
    # Back within 5 s of the broker's return, not after paho's doubling (8, 16, 30 s): a
    # switch-off queued meanwhile reaches the relay that much sooner. 5,000 gates retrying every
    # 5 s is 1,000 connection attempts a second, which a broker refuses cheaply while down.
    client.reconnect_delay_set(min_delay=1, max_delay=5)
    return client
