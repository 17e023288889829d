"""Hypothesis fuzzing: parsers raise only `ProtocolError`, and no payload turns the relay on."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gate_agent import protocol as p

from .conftest import DEVICE, SECRET, UID, FakeClock, FakeTransport
from .test_protocol import every_message

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
templates = [m.to_dict() for m in every_message()]


@st.composite
def near_valid(draw) -> bytes:
    """A real message with one field replaced, removed, or added: the parser's hardest inputs."""
    body = dict(draw(st.sampled_from(templates)))
    key = draw(st.sampled_from([*body, "extra"]))
    action = draw(st.sampled_from(["replace", "delete"]))
    if action == "delete":
        body.pop(key, None)
    else:
        body[key] = draw(json_values)
    return json.dumps(body).encode()


payloads = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | near_valid()
    | st.text(max_size=100).map(str.encode)
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("cls", list(p.MESSAGE_TYPES.values()), ids=lambda c: c.TYPE)
@FUZZ
@given(payload=payloads)
def test_parsers_raise_only_protocol_error(cls, payload):
    try:
        message = cls.from_json(payload)
    except p.ProtocolError:
        return
    # Whatever parses must serialise back to something that parses to the same message.
    assert cls.from_json(message.to_json()) == message


@pytest.fixture(scope="module")
def fuzz_gate():
    """One agent for all examples (state accumulates, as on a real gate being attacked)."""
    from gate_agent.agent import Agent
    from gate_agent.hardware.simulated import RecordingIndicator, SimulatedRelay

    with tempfile.TemporaryDirectory() as tmp:
        relay, clock = SimulatedRelay(), FakeClock()
        agent = Agent(
            device_id=DEVICE, secret=SECRET, relay=relay, transport=FakeTransport(),
            state_dir=Path(tmp), clock=clock, indicator=RecordingIndicator(),
        )  # fmt: skip

        def unexpected_error() -> None:
            raise AssertionError("an entry point raised something other than a handled error")

        # The fail-safe path runs only for unexpected exceptions: make those fail the test.
        agent._emergency_off = unexpected_error
        yield agent, relay


@FUZZ
@given(kind=st.sampled_from(list(p.Topic)), payload=payloads, scan=st.booleans())
def test_agent_survives_any_payload_and_never_switches_on(fuzz_gate, kind, payload, scan):
    agent, relay = fuzz_gate
    if scan:
        agent.on_badge(UID)  # a pending request the payload might try to answer
    agent.on_message(p.gate_topic(DEVICE, kind), payload)
    agent.tick()
    assert not relay.is_on
    assert relay.transitions == []


@FUZZ
@given(topic=st.text(max_size=60), payload=st.binary(max_size=50))
def test_agent_ignores_any_topic(fuzz_gate, topic, payload):
    agent, relay = fuzz_gate
    agent.on_message(topic, payload)
    assert not relay.is_on


def test_fuzz_templates_cover_every_message_type():
    assert {t["type"] for t in templates} == set(p.MESSAGE_TYPES)
