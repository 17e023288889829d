"""Every Toolgate MQTT connection, the gate's and the site's, sends its small packets at once."""

from __future__ import annotations

import socket
import threading

import pytest

from gate_agent.config import AgentConfig
from gate_agent.runner import _make_client

pytestmark = pytest.mark.mosquitto

HOST, PORT = "127.0.0.1", 1883


def nagle_disabled_after_connecting(client) -> bool:
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    client.connect(HOST, PORT)
    client.loop_start()
    try:
        assert connected.wait(10), "the broker at 127.0.0.1:1883 did not answer"
        return client.socket().getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        client.disconnect()
        client.loop_stop()


def test_the_gate_agent_connection_sends_without_nagle_delay(tmp_path):
    config = AgentConfig(device_id="nodelay-gate", secret="s" * 32, state_dir=tmp_path)

    assert nagle_disabled_after_connecting(_make_client(config))
