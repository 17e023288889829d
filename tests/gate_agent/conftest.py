"""Fixtures for the gate agent tests: a settable clock, an in-memory broker link, a fake site.

Nothing here touches Django; run with `-p no:django --confcutdir=tests/gate_agent` to prove it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gate_agent import protocol as p
from gate_agent.agent import Agent
from gate_agent.hardware.simulated import RecordingDisplay, RecordingIndicator, SimulatedRelay
from gate_agent.interfaces import RelayError

DEVICE = "laser-1"
SECRET = "test-secret-0123456789-abcdefghij"
T0 = 1_800_000_000  # 2027-01-15, a fixed "now"
UID = "04A32B1C"


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FlakyRelay(SimulatedRelay):
    """A smart plug that can stop answering or stop following."""

    def __init__(self) -> None:
        super().__init__()
        self.unreachable = False
        self.ignores_on = False
        self.stuck_on = False

    def on(self) -> None:
        if self.unreachable:
            raise RelayError("timed out")
        if not self.ignores_on:
            super().on()

    def off(self) -> None:
        if self.unreachable:
            raise RelayError("timed out")
        if not self.stuck_on:
            super().off()

    def read_back(self) -> bool:
        if self.unreachable:
            raise RelayError("timed out")
        return self.is_on


@dataclass
class FakeTransport:
    """Records publishes; acknowledges them at once unless `auto_ack` is off."""

    connected: bool = True
    auto_ack: bool = True
    published: list[tuple[str, bytes, bool]] = field(default_factory=list)
    unacked: list[Callable[[], None]] = field(default_factory=list)

    def publish(self, topic, payload, *, retain=False, on_ack=None) -> bool:
        if not self.connected:
            return False
        self.published.append((topic, payload, retain))
        if on_ack is not None:
            (on_ack() if self.auto_ack else self.unacked.append(on_ack))
        return True

    def ack_all(self) -> None:
        while self.unacked:
            self.unacked.pop(0)()

    def messages(self, kind: p.Topic) -> list[dict]:
        return [json.loads(body) for topic, body, _ in self.published if topic.endswith(kind)]

    def last_request(self) -> p.BadgeRequest:
        payload = [b for t, b, _ in self.published if t.endswith(p.Topic.REQUEST)][-1]
        return p.parse_signed(p.BadgeRequest, payload, device_id=DEVICE, secret=SECRET)


@dataclass
class Gate:
    """An agent with simulated hardware, plus helpers that play the site's part."""

    agent: Agent
    relay: SimulatedRelay
    indicator: RecordingIndicator
    transport: FakeTransport
    clock: FakeClock
    state_dir: Path
    display: RecordingDisplay = field(default_factory=RecordingDisplay)

    def deliver(self, kind: p.Topic, message: p.Message | bytes) -> None:
        payload = message if isinstance(message, bytes) else message.to_json()
        self.agent.on_message(p.gate_topic(DEVICE, kind), payload)

    def uploaded(self) -> list[dict]:
        """Every event the agent published on its events topic, in order."""
        return [e for m in self.transport.messages(p.Topic.EVENTS) for e in m["events"]]

    def reply(self, *, allowed: bool = True, grant_for: int = 3600, **overrides) -> p.AccessReply:
        """The site's signed answer to the last request."""
        kwargs = {
            "secret": SECRET,
            "allowed": allowed,
            "reason": "allowed_booking" if allowed else "no_booking",
            "message": "Welcome" if allowed else "No booking now",
            "now": self.clock(),
            "member_name": "Ada Lovelace",
            "grant_end": int(self.clock()) + grant_for if allowed else None,
        }
        return p.build_reply(self.transport.last_request(), **{**kwargs, **overrides})

    def scan_and_reply(self, uid: str = UID, **reply_kwargs) -> p.AccessReply:
        self.agent.on_badge(uid)
        reply = self.reply(**reply_kwargs)
        self.deliver(p.Topic.REPLY, reply)
        return reply

    def command(self, action: str, **kwargs) -> p.Command:
        kwargs.setdefault("reason", "booking_cancelled")
        return p.build_command(
            device_id=DEVICE, secret=SECRET, action=action, now=self.clock(), **kwargs
        )

    def allowlist(self, *windows: tuple[str, int, int], version: int = 1, **kw) -> p.AllowList:
        entries = [
            p.allowlist_entry(badge_uid=uid, window_start=s, window_end=e, secret=SECRET)
            for uid, s, e in windows
        ]
        kw.setdefault("now", self.clock())
        kw.setdefault("valid_until", int(self.clock()) + 6 * 3600)
        return p.build_allowlist(
            device_id=DEVICE, secret=SECRET, version=version, entries=entries, **kw
        )


@pytest.fixture
def make_gate(tmp_path: Path) -> Callable[..., Gate]:
    """Build a gate; call again with the same `state_dir` to simulate a restart."""

    def build(*, state_dir: Path = tmp_path / "state", clock: FakeClock | None = None, **kw):
        relay, indicator = kw.pop("relay", None) or SimulatedRelay(), RecordingIndicator()
        display = kw.pop("display", None) or RecordingDisplay()
        transport = kw.pop("transport", None) or FakeTransport()
        clock = clock or FakeClock()
        agent = Agent(
            device_id=DEVICE,
            secret=SECRET,
            relay=relay,
            transport=transport,
            state_dir=state_dir,
            clock=clock,
            indicator=indicator,
            request_timeout=2.0,
            warning_seconds=300,
            display=display,
            **kw,
        )
        return Gate(agent, relay, indicator, transport, clock, state_dir, display)

    return build


@pytest.fixture
def gate(make_gate) -> Gate:
    return make_gate()
