"""Tasmota plugs over MQTT, on the space's broker (the one the plugs already report to).

Tasmota listens on `cmnd/<topic>/<Command>` and answers on `stat/<topic>/RESULT` (JSON, e.g.
`{"POWER1":"ON"}`) and, for `Status 8`, on `stat/<topic>/STATUS8`. Each call publishes the
command and waits up to `timeout` for the answer; no answer (the plug or the broker away) is a
`RelayError`. The connection is the relay's own (paho-mqtt), separate from the gate's: the gate's
broker login may only use its own topics.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gate_agent.interfaces import RelayError, SensorError

# Which answer topic a command's reply arrives on.
RESULT, STATUS8 = "RESULT", "STATUS8"


class TasmotaMqttRelay:
    def __init__(
        self,
        broker_host: str,
        *,
        topic: str,
        port: int = 1883,
        channel: int = 1,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 2.0,
    ) -> None:
        self._topic, self._channel, self._timeout = topic, channel, timeout
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._on = False
        self._subscribed = threading.Event()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"toolgate-tasmota-{uuid.uuid4().hex[:10]}",
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.connect_async(broker_host, port, keepalive=30)
        self._client.loop_start()

    def on(self) -> None:
        self._on = True  # commanded: if the call fails, the agent switches off again
        self._power("ON")

    def off(self) -> None:
        self._on = False
        self._power("OFF")

    @property
    def is_on(self) -> bool:
        return self._on

    def read_back(self) -> bool:
        return self._power("")

    def watts(self) -> float:
        try:
            body = self._command("Status", "8", STATUS8)
        except RelayError as exc:
            raise SensorError(str(exc)) from None
        energy = body.get("StatusSNS", {}).get("ENERGY", {})
        power = energy.get("Power") if isinstance(energy, dict) else None
        if isinstance(power, list):
            power = power[self._channel - 1] if len(power) >= self._channel else None
        if isinstance(power, bool) or not isinstance(power, int | float):
            raise SensorError(f"Tasmota {self._topic} reports no power (no energy meter?)")
        return float(power)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _power(self, action: str) -> bool:
        name = f"Power{self._channel}"
        body = self._command(name, action, RESULT)
        state = body.get(name.upper(), body.get("POWER") if self._channel == 1 else None)
        if state not in ("ON", "OFF"):
            raise RelayError(f"Tasmota {self._topic} did not report {name}: {body!r:.80}")
        return bool(state == "ON")

    def _command(self, command: str, payload: str, answer: str) -> dict[str, Any]:
        if not self._subscribed.wait(self._timeout):
            raise RelayError(f"Tasmota {self._topic}: not connected to the broker")
        event, box = threading.Event(), list[dict[str, Any]]()
        with self._lock:
            self._waiting[answer] = (event, box)
        info = self._client.publish(f"cmnd/{self._topic}/{command}", payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS or not event.wait(self._timeout):
            with self._lock:
                self._waiting.pop(answer, None)
            raise RelayError(f"Tasmota {self._topic}: no answer to {command} {payload}".strip())
        return box[0]

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            return
        client.subscribe(f"stat/{self._topic}/+", qos=1)

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        self._subscribed.set()

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self._subscribed.clear()  # paho reconnects on its own; on_connect subscribes again

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        answer = message.topic.rsplit("/", 1)[-1]
        try:
            body = json.loads(message.payload)
        except ValueError:
            return  # stat/<topic>/POWER1 carries plain ON/OFF; RESULT has the same as JSON
        if not isinstance(body, dict):
            return
        with self._lock:
            waiting = self._waiting.pop(answer, None)
        if waiting is not None:
            waiting[1].append(body)
            waiting[0].set()
