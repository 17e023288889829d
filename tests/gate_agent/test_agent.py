"""The gate state machine with simulated relay, indicator, broker link and clock."""

from __future__ import annotations

import dataclasses

import pytest

from gate_agent import protocol as p
from gate_agent.agent import Agent, Phase
from gate_agent.hardware.simulated import SimulatedRelay

from .conftest import DEVICE, SECRET, UID, FakeTransport

OTHER_UID = "0499AABBCCDDEE"


def test_relay_is_switched_off_at_start_up(tmp_path):
    """Whatever state the relay was left in, constructing the agent switches it off."""
    relay = SimulatedRelay()
    relay.on()
    Agent(
        device_id=DEVICE, secret=SECRET, relay=relay, transport=FakeTransport(), state_dir=tmp_path
    )
    assert not relay.is_on


def test_scan_sends_a_signed_request(gate):
    gate.agent.on_badge("04:a3:2b:1c")
    request = gate.transport.last_request()
    assert request.badge_uid == UID
    assert request.sent_at == int(gate.clock())
    assert gate.agent.phase is Phase.REQUESTING
    assert not gate.relay.is_on


def test_allowed_reply_switches_on_until_grant_end(gate):
    gate.scan_and_reply(grant_for=3600)
    assert gate.relay.is_on and gate.agent.phase is Phase.ON
    gate.clock.advance(3599)
    gate.agent.tick()
    assert gate.relay.is_on
    gate.clock.advance(1)
    gate.agent.tick()
    assert not gate.relay.is_on and gate.agent.phase is Phase.IDLE
    assert gate.relay.transitions == [True, False]


def test_warning_fires_before_grant_end_and_clears_at_the_end(gate):
    gate.scan_and_reply(grant_for=3600)
    gate.clock.advance(3600 - 301)
    gate.agent.tick()
    assert gate.agent.phase is Phase.ON and not gate.indicator.warning
    gate.clock.advance(2)
    gate.agent.tick()
    assert gate.agent.phase is Phase.WARNING and gate.indicator.warning
    gate.clock.advance(300)
    gate.agent.tick()
    assert not gate.relay.is_on and not gate.indicator.warning


def test_rescan_during_warning_extends_the_grant(gate):
    gate.scan_and_reply(grant_for=600)
    gate.clock.advance(400)
    gate.agent.tick()
    assert gate.agent.phase is Phase.WARNING
    gate.scan_and_reply(grant_for=3600)
    assert gate.agent.phase is Phase.ON and not gate.indicator.warning
    assert gate.agent.grant_end == int(gate.clock()) + 3600
    gate.clock.advance(1000)
    gate.agent.tick()
    assert gate.relay.is_on
    assert gate.relay.transitions == [True]
    kinds = [e["kind"] for e in gate.uploaded()]
    assert kinds == [p.EVENT_SESSION_START, p.EVENT_SESSION_EXTEND]


def test_denied_reply_keeps_the_relay_off(gate):
    gate.scan_and_reply(allowed=False)
    assert not gate.relay.is_on
    assert gate.relay.transitions == []
    assert gate.indicator.calls == ["denied"]
    assert gate.agent.phase is Phase.IDLE


def test_denied_extension_keeps_the_running_grant(gate):
    gate.scan_and_reply(grant_for=600)
    end = gate.agent.grant_end
    gate.scan_and_reply(allowed=False)
    assert gate.relay.is_on and gate.agent.grant_end == end


def test_another_members_allowed_scan_hands_the_session_over(gate):
    gate.scan_and_reply(grant_for=600)
    gate.scan_and_reply(OTHER_UID, grant_for=1800)
    assert gate.relay.transitions == [True]
    assert gate.agent.grant_end == int(gate.clock()) + 1800
    log = [(e["kind"], e["badge_uid"], e["reason"]) for e in gate.uploaded()]
    assert log == [
        (p.EVENT_SESSION_START, UID, "allowed_booking"),
        (p.EVENT_SESSION_END, UID, "handover"),
        (p.EVENT_SESSION_START, OTHER_UID, "allowed_booking"),
    ]


def _forged(reply: p.AccessReply) -> p.AccessReply:
    return p.sign(reply, "someone-elses-secret-0123456789")


def _tampered(reply: p.AccessReply) -> p.AccessReply:
    return dataclasses.replace(reply, grant_end=reply.grant_end + 86400)


def _unsigned(reply: p.AccessReply) -> p.AccessReply:
    return dataclasses.replace(reply, sig="0" * 64)


def _wrong_nonce(reply: p.AccessReply) -> p.AccessReply:
    return p.sign(dataclasses.replace(reply, nonce=p.new_nonce()), SECRET)


def _wrong_device(reply: p.AccessReply) -> p.AccessReply:
    return p.sign(dataclasses.replace(reply, device_id="lathe-2"), SECRET)


def _too_long_lived(reply: p.AccessReply) -> p.AccessReply:
    return p.sign(dataclasses.replace(reply, expires_at=reply.issued_at + 3600), SECRET)


@pytest.mark.parametrize(
    "spoil", [_forged, _tampered, _unsigned, _wrong_nonce, _wrong_device, _too_long_lived]
)
def test_bad_replies_are_rejected_and_the_relay_stays_off(gate, spoil):
    gate.agent.on_badge(UID)
    gate.deliver(p.Topic.REPLY, spoil(gate.reply()))
    assert not gate.relay.is_on
    assert gate.relay.transitions == []


def test_stale_reply_is_rejected(gate):
    gate.agent.on_badge(UID)
    reply = gate.reply()
    gate.clock.advance(reply.expires_at - reply.issued_at + p.CLOCK_SKEW + 1)
    gate.deliver(p.Topic.REPLY, reply)
    assert not gate.relay.is_on


def test_reply_from_the_future_is_rejected(gate):
    gate.agent.on_badge(UID)
    gate.deliver(p.Topic.REPLY, gate.reply(now=gate.clock() + 600))
    assert not gate.relay.is_on


def test_replayed_reply_is_rejected(gate):
    reply = gate.scan_and_reply(grant_for=600)
    gate.clock.advance(600)
    gate.agent.tick()
    assert not gate.relay.is_on
    gate.clock.now -= 590  # within the reply's lifetime again, as far as the agent can tell
    gate.agent.on_badge(UID)
    gate.deliver(p.Topic.REPLY, reply)
    assert gate.relay.transitions == [True, False]


def test_replay_cache_survives_a_restart(make_gate, tmp_path):
    first = make_gate()
    first.agent.on_badge(UID)
    command = first.command(p.ACTION_SWITCH_OFF)
    first.deliver(p.Topic.COMMAND, command)
    again = make_gate(clock=first.clock)
    again.scan_and_reply(grant_for=600)
    assert again.relay.is_on
    again.deliver(p.Topic.COMMAND, command)  # replayed: rejected, which also switches off
    assert not again.relay.is_on
    assert again.uploaded()[-1]["reason"] == "message_rejected"
    assert (first.state_dir / "seen.json").exists()


def test_rejected_message_switches_a_running_session_off(gate):
    gate.scan_and_reply(grant_for=600)
    gate.deliver(p.Topic.COMMAND, b'{"v":1,"type":"command"}')
    assert not gate.relay.is_on


def test_signed_switch_off_command_turns_the_relay_off(gate):
    gate.scan_and_reply(grant_for=3600)
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF, reason="emergency_stop"))
    assert not gate.relay.is_on
    last = gate.uploaded()[-1]
    assert last["kind"] == p.EVENT_SESSION_END and last["reason"] == "emergency_stop"


def test_switch_off_about_the_running_members_badge_stops_the_session(gate):
    gate.scan_and_reply(grant_for=3600)
    command = gate.command(p.ACTION_SWITCH_OFF, only_badges=[OTHER_UID, UID])
    gate.deliver(p.Topic.COMMAND, command)
    assert not gate.relay.is_on
    assert gate.uploaded()[-1]["reason"] == "booking_cancelled"


def test_switch_off_about_another_members_badge_leaves_the_running_job_alone(gate):
    """Someone else losing access must not cut the job of the member at the machine."""
    gate.scan_and_reply(grant_for=3600)
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF, only_badges=[OTHER_UID]))
    assert gate.relay.is_on
    assert p.EVENT_SESSION_END not in [event["kind"] for event in gate.uploaded()]


def test_unsigned_switch_off_command_is_not_obeyed_but_fails_closed(gate):
    """An unsigned command is not acted on as a command (its reason is not logged); failing its
    check switches the relay off anyway, by the safety rule."""
    gate.scan_and_reply(grant_for=3600)
    command = gate.command(p.ACTION_SWITCH_OFF)
    gate.deliver(p.Topic.COMMAND, dataclasses.replace(command, sig="f" * 64))
    assert not gate.relay.is_on
    assert gate.uploaded()[-1]["reason"] == "message_rejected"


def test_unsigned_extend_command_does_not_extend(gate):
    gate.scan_and_reply(grant_for=600)
    command = gate.command(p.ACTION_EXTEND, grant_end=int(gate.clock()) + 90_000)
    gate.deliver(p.Topic.COMMAND, dataclasses.replace(command, sig="f" * 64))
    assert gate.agent.grant_end is None and not gate.relay.is_on


def test_signed_extend_command_moves_the_grant_end(gate):
    gate.scan_and_reply(grant_for=600)
    new_end = int(gate.clock()) + 7200
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_EXTEND, grant_end=new_end))
    assert gate.agent.grant_end == new_end
    gate.clock.advance(3600)
    gate.agent.tick()
    assert gate.relay.is_on


def test_extend_about_another_members_badge_does_not_lengthen_this_session(gate):
    gate.scan_and_reply(grant_for=600)
    end = gate.agent.grant_end
    command = gate.command(
        p.ACTION_EXTEND, grant_end=int(gate.clock()) + 7200, only_badges=[OTHER_UID]
    )
    gate.deliver(p.Topic.COMMAND, command)
    assert gate.agent.grant_end == end and gate.relay.is_on
    mine = gate.command(p.ACTION_EXTEND, grant_end=int(gate.clock()) + 7200, only_badges=[UID])
    gate.deliver(p.Topic.COMMAND, mine)
    assert gate.agent.grant_end == int(gate.clock()) + 7200


def test_exception_in_a_handler_switches_the_relay_off(gate, caplog):
    gate.scan_and_reply(grant_for=600)

    def broken() -> None:
        raise RuntimeError("buzzer on fire")

    gate.indicator.warn = broken
    gate.clock.advance(400)
    gate.agent.tick()
    assert not gate.relay.is_on
    assert "buzzer on fire" in caplog.text
    assert gate.agent.phase is Phase.IDLE


def test_relay_on_without_session_is_corrected_on_tick(gate):
    gate.relay.on()
    gate.agent.tick()
    assert not gate.relay.is_on


def test_heartbeat_reports_relay_state(gate):
    gate.agent.on_connected()
    gate.scan_and_reply(grant_for=600)
    gate.clock.advance(31)
    gate.agent.tick()
    beats = [p.Heartbeat.from_dict(m) for m in gate.transport.messages(p.Topic.HEARTBEAT)]
    assert [b.relay_on for b in beats] == [False, True]
    assert p.verify(beats[-1], SECRET) and beats[-1].phase == "on"
