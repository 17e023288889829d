"""Offline mode: decisions from the signed allow-list, the durable event log and its upload."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC

import pytest

from gate_agent import protocol as p
from gate_agent.agent import REASON_ALLOWLIST_WITHDRAWN, Phase
from gate_agent.offline import REASON_ALLOWED, REASON_NO_LIST, REASON_NOT_LISTED, REASON_STALE

from .conftest import SECRET, UID, FakeTransport


def _offline_scan(gate, uid: str = UID) -> None:
    """Scan while the broker link is down: the agent decides at once from the allow-list."""
    gate.transport.connected = False
    gate.agent.on_badge(uid)


def _window(gate, start: int = -600, end: int = 1800) -> tuple[str, int, int]:
    now = int(gate.clock())
    return (UID, now + start, now + end)


def test_fresh_allowlist_grants_until_the_window_end(gate):
    window = _window(gate)
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(window))
    _offline_scan(gate)
    assert gate.relay.is_on and gate.agent.grant_end == window[2]
    gate.clock.advance(1800)
    gate.agent.tick()
    assert not gate.relay.is_on


def test_no_reply_in_time_falls_back_to_the_allowlist(gate):
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(_window(gate)))
    gate.agent.on_badge(UID)
    gate.clock.advance(1.9)
    gate.agent.tick()
    assert gate.agent.phase is Phase.REQUESTING
    gate.clock.advance(0.1)
    gate.agent.tick()
    assert gate.relay.is_on


@pytest.mark.parametrize(
    ("make_list", "reason"),
    [
        (lambda g: None, REASON_NO_LIST),
        (lambda g: g.allowlist(_window(g, start=600, end=1800)), REASON_NOT_LISTED),
        (lambda g: g.allowlist(("0499AABBCCDDEE", *_window(g)[1:])), REASON_NOT_LISTED),
    ],
)
def test_offline_denials(gate, make_list, reason):
    allowlist = make_list(gate)
    if allowlist is not None:
        gate.deliver(p.Topic.ALLOWLIST, allowlist)
    _offline_scan(gate)
    assert not gate.relay.is_on
    decision = gate.agent.unsent_events()[-1]
    assert (decision.kind, decision.allowed, decision.reason) == (
        p.EVENT_OFFLINE_DECISION,
        False,
        reason,
    )


def test_an_offline_grant_and_denial_say_so_on_the_screen(make_gate):
    gate = make_gate(zone=UTC)  # T0 is 08:00 UTC
    _offline_scan(gate)
    assert gate.display.lines[-1] == "Denied: offline no allowlist"
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(_window(gate)))
    _offline_scan(gate)
    assert gate.display.lines[-1] == "On until 08:30 (offline)"


def test_expired_allowlist_is_not_used(gate):
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(_window(gate, end=86400)))
    gate.clock.advance(6 * 3600)
    _offline_scan(gate)
    assert not gate.relay.is_on
    assert gate.agent.unsent_events()[-1].reason == REASON_STALE


def test_allowlist_older_than_max_age_is_not_used(make_gate):
    gate = make_gate(allowlist_max_age=3600)
    allowlist = gate.allowlist(_window(gate, end=86400), valid_until=int(gate.clock()) + 86400)
    gate.deliver(p.Topic.ALLOWLIST, allowlist)
    gate.clock.advance(3601)
    _offline_scan(gate)
    assert gate.agent.unsent_events()[-1].reason == REASON_STALE


def test_forged_allowlist_is_rejected(gate):
    forged = p.sign(gate.allowlist(_window(gate)), "not-the-device-secret-12345")
    gate.deliver(p.Topic.ALLOWLIST, forged)
    assert gate.agent.allowlist is None
    _offline_scan(gate)
    assert not gate.relay.is_on


def test_older_allowlist_version_does_not_replace_a_newer_one(gate):
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(version=5))
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(_window(gate), version=4))
    assert gate.agent.allowlist.version == 5
    _offline_scan(gate)
    assert not gate.relay.is_on


def test_allowlist_survives_a_restart_and_is_verified_again(make_gate):
    gate = make_gate()
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(_window(gate), version=7))
    again = make_gate(clock=gate.clock)
    assert again.agent.allowlist.version == 7
    _offline_scan(again)
    assert again.relay.is_on


def test_tampered_allowlist_file_is_ignored(make_gate):
    gate = make_gate()
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(("0499AABBCCDDEE", *_window(gate)[1:])))
    stored = gate.state_dir / "allowlist.json"
    data = json.loads(stored.read_bytes())
    data["entries"][0]["badge_hash"] = p.allowlist_badge_hash(UID, SECRET)
    stored.write_text(json.dumps(data))
    again = make_gate(clock=gate.clock)
    assert again.agent.allowlist is None
    _offline_scan(again)
    assert not again.relay.is_on


def test_session_running_when_the_network_drops_runs_to_its_grant_end(gate):
    gate.scan_and_reply(grant_for=900)
    gate.transport.connected = False
    gate.agent.on_disconnected()
    gate.clock.advance(899)
    gate.agent.tick()
    assert gate.relay.is_on
    gate.clock.advance(1)
    gate.agent.tick()
    assert not gate.relay.is_on


def test_late_denial_switches_off_a_session_granted_offline(gate):
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(_window(gate)))
    gate.agent.on_badge(UID)
    late = gate.reply(allowed=False)
    gate.clock.advance(2)
    gate.agent.tick()
    assert gate.relay.is_on
    gate.deliver(p.Topic.REPLY, late)
    assert not gate.relay.is_on
    assert gate.uploaded()[-1]["kind"] == p.EVENT_SESSION_END
    assert gate.uploaded()[-1]["reason"] == "no_booking"


def test_late_reply_delivered_twice_is_a_no_op(gate, caplog):
    caplog.set_level(logging.INFO)
    gate.agent.on_badge(UID)
    late = gate.reply()
    gate.clock.advance(2)
    gate.agent.tick()
    gate.deliver(p.Topic.REPLY, late)
    assert "after the request timed out" in caplog.text
    gate.deliver(p.Topic.REPLY, late)
    assert "already applied" in caplog.text
    assert not gate.relay.is_on


def test_offline_decisions_are_logged_durably_and_uploaded_after_restart(make_gate):
    gate = make_gate()
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(_window(gate, end=60)))
    _offline_scan(gate)
    _offline_scan(gate, "0499AABBCCDDEE")
    lines = (gate.state_dir / "events.jsonl").read_text().splitlines()
    assert len(lines) == 3  # decision + session start, then a decision (denied)
    # The Pi reboots (the session was still running) and comes back with the network.
    transport = FakeTransport(connected=False, auto_ack=False)
    again = make_gate(clock=gate.clock, transport=transport)
    assert not again.relay.is_on
    transport.connected = True
    again.agent.on_connected()
    sent = again.uploaded()
    assert [(e["kind"], e["reason"]) for e in sent] == [
        (p.EVENT_OFFLINE_DECISION, REASON_ALLOWED),
        (p.EVENT_SESSION_START, REASON_ALLOWED),
        (p.EVENT_OFFLINE_DECISION, REASON_NOT_LISTED),
        (p.EVENT_SESSION_END, "agent_restart"),
    ]
    batch = p.EventBatch.from_json(transport.published[-1][1])
    assert p.verify(batch, SECRET)
    # Not acknowledged yet: another restart uploads them again.
    third = make_gate(clock=gate.clock)
    third.agent.on_connected()
    assert [e["id"] for e in third.uploaded()] == [e["id"] for e in sent]
    third.agent.tick()
    assert third.agent.unsent_events() == []
    fourth = make_gate(clock=gate.clock)
    fourth.agent.on_connected()
    assert fourth.uploaded() == []


def test_events_are_marked_sent_only_after_the_broker_acknowledges(make_gate):
    transport = FakeTransport(auto_ack=False)
    gate = make_gate(transport=transport)
    gate.scan_and_reply(grant_for=60)
    assert len(gate.agent.unsent_events()) == 1
    gate.agent.tick()
    assert len(gate.agent.unsent_events()) == 1
    transport.ack_all()
    gate.agent.tick()
    assert gate.agent.unsent_events() == []


def test_torn_last_line_of_the_event_log_is_skipped(make_gate):
    gate = make_gate()
    gate.transport.connected = False
    _offline_scan(gate)
    _offline_scan(gate)
    with (gate.state_dir / "events.jsonl").open("ab") as fh:
        fh.write(b'{"event": {"id": "trunc')
    again = make_gate(clock=gate.clock, transport=FakeTransport(connected=False))
    assert [e.kind for e in again.agent.unsent_events()] == [p.EVENT_OFFLINE_DECISION] * 2


def test_replay_cache_file_lost_means_refusing_until_old_messages_expire(make_gate):
    gate = make_gate()
    (gate.state_dir / "seen.json").write_text("{not json")
    again = make_gate(clock=gate.clock)
    again.scan_and_reply()
    assert not again.relay.is_on
    again.clock.advance(p.MAX_MESSAGE_TTL + 2 * p.CLOCK_SKEW)
    again.scan_and_reply()
    assert again.relay.is_on


def test_allowlist_reusing_a_version_with_other_content_is_rejected(gate):
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(version=3))
    other = gate.allowlist(_window(gate), version=3)
    gate.deliver(p.Topic.ALLOWLIST, other)
    assert gate.agent.allowlist.entries == ()
    same = dataclasses.replace(gate.agent.allowlist)
    gate.deliver(p.Topic.ALLOWLIST, same)  # the retained copy again: harmless
    assert gate.agent.allowlist == same


def test_a_newer_list_without_the_badge_ends_the_session_it_granted(gate, caplog):
    """The site withdrew the grant (a lapse); its switch-off may come later than the list."""
    caplog.set_level(logging.WARNING, logger="gate_agent.agent")
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(_window(gate), version=1))
    _offline_scan(gate)
    assert gate.relay.is_on
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(_window(gate), version=2))
    assert gate.relay.is_on  # still listed
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(version=3))
    assert not gate.relay.is_on
    assert gate.agent.phase is Phase.IDLE
    end = gate.agent.unsent_events()[-1]
    assert (end.kind, end.reason) == (p.EVENT_SESSION_END, REASON_ALLOWLIST_WITHDRAWN)
    assert gate.display.lines[-1] == "Off: your access was withdrawn"
    assert caplog.messages == [f"The new allow-list no longer lists {UID}: switching off"]


def test_a_newer_list_leaves_a_session_the_site_granted_alone(gate):
    """A walk-in booking made after the list was built: the site's own grant stands."""
    gate.scan_and_reply(grant_for=600)
    assert gate.relay.is_on
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(version=3))
    assert gate.relay.is_on


def test_a_session_the_site_confirmed_after_an_offline_grant_is_the_sites(gate):
    """Scanned again online during an offline-granted session: the latest grant is the site's."""
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(_window(gate), version=1))
    _offline_scan(gate)
    gate.transport.connected = True
    gate.scan_and_reply(grant_for=600)
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist(version=2))
    assert gate.relay.is_on
