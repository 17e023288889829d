"""Fixtures of the webhook tests: a live receiver, an endpoint registered to it, a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.factories.webhooks import EndpointFactory
from tests.webhooks.receiver import start_receiver

NOW = datetime(2030, 1, 7, 16, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def receiver():
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(db, receiver):
    return EndpointFactory(url=receiver.url)
