"""The site's MQTT connections (bridge, switch-off pushes) send their small packets at once."""

from __future__ import annotations

import pytest

from access.mqtt import BrokerSettings, make_client
from tests.gate_agent.test_sockets import HOST, PORT, nagle_disabled_after_connecting

pytestmark = pytest.mark.mosquitto


def test_the_site_connection_sends_without_nagle_delay(settings):
    settings.GATE_BROKER_URL = f"mqtt://{HOST}:{PORT}"

    assert nagle_disabled_after_connecting(make_client(BrokerSettings.from_settings()))
