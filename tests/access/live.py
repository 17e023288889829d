"""A real gate over a real Mosquitto for end-to-end tests: the site's bridge in a thread on one
side, the Pi agent with a simulated relay on the other (fixtures `broker` and `gate_for` in
conftest)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest

from access.bridge import BridgeRunner, GateBridge
from access.mqtt import BrokerSettings
from gate_agent.config import AgentConfig, BrokerConfig
from gate_agent.hardware.simulated import RecordingIndicator, ScriptedReader, SimulatedRelay
from gate_agent.runner import Runner
from tests.access.mosquitto import Mosquitto

DEADLINE = 20.0


def wait_for(condition: Callable[[], bool], what: str, deadline: float = DEADLINE) -> float:
    """Poll until `condition` holds; returns the seconds it took. Fails after `deadline`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - started


class Gate:
    """A running bridge and agent around one machine's gate device."""

    def __init__(self, broker: Mosquitto, device, state_dir, relay=None, **hardware) -> None:
        """`relay` replaces the simulated relay; `meter`, `display` and config fields
        (`power`, `timezone`, ...) in `hardware` go to the runner and its config."""
        self.relay, self.reader = relay or SimulatedRelay(), ScriptedReader()
        runner_kw = {k: hardware.pop(k) for k in ("meter", "display") if k in hardware}
        self.bridge = BridgeRunner(
            GateBridge(), BrokerSettings.from_settings(), client_id=f"bridge-{uuid.uuid4().hex[:8]}"
        )
        config = AgentConfig(
            device_id=device.device_id,
            secret=device.secret,
            state_dir=state_dir,
            request_timeout=1.0,
            heartbeat_seconds=1.0,
            broker=BrokerConfig(port=broker.port),
            **hardware,
        )
        self.indicator = RecordingIndicator()
        self.agent = Runner(
            config, relay=self.relay, reader=self.reader, indicator=self.indicator, **runner_kw
        )
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self.bridge.run, kwargs={"housekeeping_seconds": 3600}),
            threading.Thread(target=self.agent.run, args=(self._stop,)),
        ]
        for thread in self._threads:
            thread.start()
        wait_for(self.bridge.connected.is_set, "the bridge to connect")
        wait_for(lambda: self.agent.agent.allowlist is not None, "the gate's first allow-list")

    def close(self) -> None:
        self._stop.set()
        self.bridge.stop()
        for thread in self._threads:
            thread.join(timeout=DEADLINE)
