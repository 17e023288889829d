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


def test_another_members_allowed_scan_never_takes_over_a_running_session(gate):
    """A maintainer's (or the next member's) allowed scan during someone's session is refused at
    the machine: the running session keeps its grant, and nobody is cut off silently."""
    gate.scan_and_reply(grant_for=600)
    gate.scan_and_reply(OTHER_UID, grant_for=1800)
    assert gate.relay.transitions == [True]
    assert gate.agent.grant_end == int(gate.clock()) + 600
    assert gate.indicator.calls[-1] == "denied"
    assert gate.display.lines[-1] == "Denied: the machine is in use"
    log = [(e["kind"], e["badge_uid"]) for e in gate.uploaded()]
    assert log == [(p.EVENT_SESSION_START, UID)]
    gate.clock.advance(600)
    gate.agent.tick()
    gate.scan_and_reply(OTHER_UID, grant_for=1800)
    assert gate.relay.transitions == [True, False, True]
    assert gate.uploaded()[-1]["badge_uid"] == OTHER_UID


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


def test_replayed_reply_never_switches_on_for_a_new_scan(gate):
    """A genuine reply recorded and replayed for a later scan changes nothing: its nonce was
    applied, and the new scan waits for its own answer."""
    reply = gate.scan_and_reply(grant_for=600)
    gate.clock.advance(600)
    gate.agent.tick()
    assert not gate.relay.is_on
    gate.clock.now -= 590  # within the reply's lifetime again, as far as the agent can tell
    gate.agent.on_badge(UID)
    gate.deliver(p.Topic.REPLY, reply)
    assert gate.relay.transitions == [True, False]
    assert gate.agent.phase is Phase.REQUESTING


def test_exact_duplicate_of_the_applied_reply_is_a_no_op(gate):
    """MQTT delivers at least once: the same signed reply twice must not end the session it
    started (an instructor's session once ended 50 ms after it began)."""
    reply = gate.scan_and_reply(grant_for=600)
    gate.deliver(p.Topic.REPLY, reply)
    assert gate.relay.is_on and gate.relay.transitions == [True]
    assert [e["kind"] for e in gate.uploaded()] == [p.EVENT_SESSION_START]


def test_another_reply_reusing_an_applied_nonce_is_rejected(gate):
    """Only the exact bytes applied are a duplicate; a different signed reply with the same
    nonce cannot come from a site that answers each nonce once, and fails closed."""
    reply = gate.scan_and_reply(grant_for=600)
    longer = p.sign(dataclasses.replace(reply, grant_end=reply.grant_end + 3600), SECRET)
    gate.deliver(p.Topic.REPLY, longer)
    assert not gate.relay.is_on
    assert gate.uploaded()[-1]["reason"] == "message_rejected"


def _acks(gate) -> list[p.Ack]:
    acks = [p.Ack.from_dict(m) for m in gate.transport.messages(p.Topic.ACK)]
    assert all(p.verify(ack, SECRET) for ack in acks)
    return acks


def test_a_command_is_applied_once_and_acknowledged_every_time(gate):
    """The site sends a command until it hears the ack; a repeat (re-signed with fresh times,
    same id) is acknowledged again but not applied again: it must not stop a later session."""
    gate.scan_and_reply(grant_for=3600)
    command = gate.command(p.ACTION_SWITCH_OFF, reason="emergency_stop")
    gate.deliver(p.Topic.COMMAND, command)
    assert not gate.relay.is_on
    gate.scan_and_reply(grant_for=3600)
    gate.clock.advance(100)
    resent = p.sign(
        dataclasses.replace(
            command, issued_at=int(gate.clock()), expires_at=int(gate.clock()) + p.COMMAND_TTL
        ),
        SECRET,
    )
    gate.deliver(p.Topic.COMMAND, resent)
    assert gate.relay.is_on
    assert [ack.command_ids for ack in _acks(gate)] == [
        (command.command_id,),
        (command.command_id,),
    ]


def test_a_command_that_changes_nothing_is_acknowledged(gate):
    """A switch-off for another member's badge, or an extend with no session, is still done."""
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF, only_badges=[OTHER_UID]))
    extend = gate.command(p.ACTION_EXTEND, grant_end=int(gate.clock()) + 600)
    gate.deliver(p.Topic.COMMAND, extend)
    assert len([ack for ack in _acks(gate) if ack.command_ids]) == 2


def test_a_rejected_command_is_not_acknowledged(gate):
    command = gate.command(p.ACTION_SWITCH_OFF)
    gate.deliver(p.Topic.COMMAND, dataclasses.replace(command, sig="f" * 64))
    assert _acks(gate) == []


def test_allowlists_are_acknowledged_with_the_version_held(gate):
    now = int(gate.clock())
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist((UID, now, now + 600), version=5))
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist((UID, now, now + 600), version=4))
    assert [ack.allowlist_version for ack in _acks(gate)] == [5, 5]


def test_an_applied_command_stays_applied_across_a_restart(make_gate, tmp_path):
    """The replay cache is on disk: after a restart the same command is still a no-op."""
    first = make_gate()
    first.agent.on_badge(UID)
    command = first.command(p.ACTION_SWITCH_OFF)
    first.deliver(p.Topic.COMMAND, command)
    again = make_gate(clock=first.clock)
    again.scan_and_reply(grant_for=600)
    assert again.relay.is_on
    again.deliver(p.Topic.COMMAND, command)
    assert again.relay.is_on
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


def test_a_korean_gate_says_in_korean_that_the_machine_is_in_use(make_gate):
    """The gate's `language` reaches its screen, and the refusal is known by its reason code:
    the catalogue's sentence, not the English words it came with."""
    from gate_agent.i18n import translations
    from gate_agent.screen import DENIAL_SENTENCES

    gate = make_gate(language="ko")
    gate.scan_and_reply(grant_for=600)
    gate.scan_and_reply(OTHER_UID, grant_for=1800)
    korean = translations("ko").gettext(DENIAL_SENTENCES["machine_in_use"])
    assert korean != DENIAL_SENTENCES["machine_in_use"]
    assert korean in gate.display.lines[-1]
