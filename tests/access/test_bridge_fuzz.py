"""Fuzzing the bridge's message handling: garbage never crashes it and never grants access."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from access.bridge import GateBridge
from access.models import AccessEvent, UsageSession
from gate_agent import protocol as p
from tests.factories.access import GateDeviceFactory

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=8)
    ),
    max_leaves=30,
)


@pytest.fixture
def device(scene):
    return GateDeviceFactory(machine=scene.machine)


def message_like(device, kind: str):
    """Dicts shaped like real messages (right keys, arbitrary values), plus raw bytes."""
    keys = st.fixed_dictionaries(
        {"v": st.one_of(st.just(p.MESSAGE_VERSION), json_values),
         "type": st.one_of(st.just(kind), json_values),
         "device_id": st.one_of(st.just(device.device_id), json_values),
         "sig": st.one_of(st.text(max_size=70), json_values)},
        optional={"nonce": json_values, "badge_uid": json_values, "sent_at": json_values,
                  "firmware": json_values, "events": json_values, "state": json_values},
    )  # fmt: skip
    return st.one_of(st.binary(max_size=300), keys.map(lambda d: json.dumps(d).encode()))


@pytest.mark.parametrize("kind", ["request", "heartbeat", "events", "status"])
def test_garbage_on_every_topic_is_refused_quietly(device, kind):
    bridge = GateBridge()
    topic = p.gate_topic(device.device_id, kind)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(payload=message_like(device, kind))
    def run(payload: bytes) -> None:
        outgoing = bridge.handle(topic, payload)
        # Unsigned garbage gets no reply and is recorded nowhere; only a well-formed status
        # (unsigned by design: presence only) may trigger an allow-list publication.
        assert all(t.endswith("/allowlist") for t, _, _ in outgoing)
        assert not AccessEvent.objects.exists() and not UsageSession.objects.exists()

    run()
