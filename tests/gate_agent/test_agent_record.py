"""What a gate tells the site and its maintainer: the events it uploads (the audit trail of
every session), its heartbeats, and the lines of its log; and the edges of its grants."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC

from gate_agent import protocol as p
from gate_agent.agent import Phase
from gate_agent.offline import REASON_ALLOWED

from .conftest import DEVICE, SECRET, T0, UID

OTHER_UID = "0499AABBCCDDEE"


def events(gate) -> list[tuple]:
    """The uploaded events without their random ids, session ids replaced by their order."""
    sessions: dict[str, int] = {}
    return [
        (
            e["kind"],
            e["at"],
            e["reason"],
            None
            if e["session_id"] is None
            else sessions.setdefault(e["session_id"], len(sessions)),
            e["badge_uid"],
            e["allowed"],
            e["grant_end"],
        )
        for e in gate.uploaded()
    ]


def agent_log(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gate_agent.agent"]


def test_a_session_uploads_its_start_each_real_extension_and_its_end(gate):
    """Each event names the session and the badge; a rescan or an extend to the same end is no
    extension, and each extension says why (the site's reason code)."""
    gate.scan_and_reply(grant_for=600)
    gate.scan_and_reply(grant_for=600)
    gate.clock.advance(100)
    gate.scan_and_reply(grant_for=600, reason="allowed_instructor")
    extend = {"grant_end": T0 + 900, "reason": "booking_extended", "only_badges": [UID]}
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_EXTEND, **extend))
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_EXTEND, **extend))
    gate.clock.advance(800)
    gate.agent.tick()
    assert events(gate) == [
        (p.EVENT_SESSION_START, T0, "allowed_booking", 0, UID, None, T0 + 600),
        (p.EVENT_SESSION_EXTEND, T0 + 100, "allowed_instructor", 0, UID, None, T0 + 700),
        (p.EVENT_SESSION_EXTEND, T0 + 100, "booking_extended", 0, UID, None, T0 + 900),
        (p.EVENT_SESSION_END, T0 + 900, "grant_expired", 0, UID, None, None),
    ]


def test_an_offline_grant_uploads_the_decision_and_the_session(gate):
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist((UID, T0 - 60, T0 + 1200)))
    gate.transport.connected = False
    gate.agent.on_badge(UID)
    gate.transport.connected = True
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF, reason="booking_cancelled"))
    gate.agent.tick()
    assert events(gate) == [
        (p.EVENT_OFFLINE_DECISION, T0, REASON_ALLOWED, None, UID, True, T0 + 1200),
        (p.EVENT_SESSION_START, T0, REASON_ALLOWED, 0, UID, None, T0 + 1200),
        (p.EVENT_SESSION_END, T0, "booking_cancelled", 0, UID, None, None),
    ]


def test_a_session_cut_by_an_error_or_a_restart_says_so(make_gate):
    gate = make_gate()
    gate.scan_and_reply(grant_for=600)
    gate.indicator.warn = lambda: 1 / 0
    gate.clock.advance(400)
    gate.agent.tick()
    assert events(gate)[-1] == (p.EVENT_SESSION_END, T0 + 400, "agent_error", 0, UID, None, None)
    gate.scan_and_reply(OTHER_UID, grant_for=600)
    start = gate.uploaded()[-1]
    again = make_gate(clock=gate.clock)  # the Pi restarts with that session open
    again.agent.on_connected()
    end = again.uploaded()[-1]
    assert (end["kind"], end["reason"], end["session_id"], end["badge_uid"]) == (
        p.EVENT_SESSION_END,
        "agent_restart",
        start["session_id"],
        OTHER_UID,
    )


def test_heartbeats_every_30_seconds_report_the_gate_state(gate):
    gate.agent.on_connected()
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist((UID, T0, T0 + 60), version=7))
    gate.scan_and_reply(grant_for=600)
    gate.clock.advance(29)
    gate.agent.tick()
    gate.clock.advance(1)
    gate.agent.tick()
    beats = [p.Heartbeat.from_dict(m) for m in gate.transport.messages(p.Topic.HEARTBEAT)]
    fields = [
        (
            b.sent_at,
            b.uptime,
            b.relay_on,
            b.phase,
            b.grant_end,
            b.allowlist_version,
            b.unsent_events,
        )
        for b in beats
    ]
    assert fields == [
        (T0, 0, False, "idle", None, None, 0),
        (T0 + 30, 30, True, "on", T0 + 600, 7, 0),
    ]


def test_the_warning_starts_exactly_the_warning_time_before_the_end(gate):
    gate.scan_and_reply(grant_for=600)
    gate.clock.advance(300)
    gate.agent.tick()
    assert gate.agent.phase is Phase.WARNING


def test_a_grant_that_ends_now_or_before_switches_nothing_on(gate):
    for grant_for in (0, -5):
        gate.scan_and_reply(grant_for=grant_for)
    assert gate.relay.transitions == [] and gate.uploaded() == []
    assert gate.indicator.calls == ["denied", "denied"]


def test_the_agent_creates_its_state_directory(make_gate, tmp_path):
    """A fresh Pi has no /var/lib/toolgate yet: the agent makes the whole path."""
    state = tmp_path / "var" / "lib" / "toolgate"
    make_gate(state_dir=state).scan_and_reply()
    assert (state / "events.jsonl").exists()


def test_a_late_denial_of_another_badge_leaves_the_running_session_alone(gate):
    """Ada's session runs; Bob's scan times out and is refused at the machine; the site's late
    denial of Bob's request must not end Ada's session."""
    gate.scan_and_reply(grant_for=1800)
    gate.agent.on_badge(OTHER_UID)
    late = gate.reply(allowed=False)
    gate.clock.advance(2)
    gate.agent.tick()
    gate.deliver(p.Topic.REPLY, late)
    assert gate.relay.is_on and gate.agent.grant_end == T0 + 1800


def test_a_late_denial_of_a_rescan_granted_offline_ends_the_session(gate):
    """The running member scans again, the site does not answer in time and the list extends the
    grant; when the site's denial of that scan arrives, the extension and the session end."""
    gate.scan_and_reply(grant_for=600)
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist((UID, T0, T0 + 3600)))
    gate.agent.on_badge(UID)
    late = gate.reply(allowed=False, reason="membership_inactive")
    gate.clock.advance(2)
    gate.agent.tick()
    assert gate.agent.grant_end == T0 + 3600
    gate.deliver(p.Topic.REPLY, late)
    assert not gate.relay.is_on
    assert events(gate)[-1][:3] == (p.EVENT_SESSION_END, T0 + 2, "membership_inactive")


def test_a_reply_that_comes_minutes_late_is_still_known(gate):
    """Up to the longest lifetime plus the skew after the request, a reply to it is a late reply
    (a grant of it is ignored), not a reply to nothing, which would switch the machine off."""
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist((UID, T0, T0 + 3600)))
    gate.agent.on_badge(UID)
    request = gate.transport.last_request()
    gate.clock.advance(2)
    gate.agent.tick()
    assert gate.relay.is_on
    gate.clock.now = T0 + 2 + p.MAX_MESSAGE_TTL + p.CLOCK_SKEW - 1
    gate.agent.tick()
    late = p.build_reply(
        request,
        secret=SECRET,
        allowed=True,
        reason="allowed_booking",
        message="",
        now=gate.clock(),
        grant_end=T0 + 3600,
    )
    gate.deliver(p.Topic.REPLY, late)
    assert gate.relay.is_on


def test_the_gate_log_tells_the_maintainer_what_happened(make_gate, caplog):
    """Times as the gate's clock shows them (T0 is 08:00 UTC), not the site's "until your
    booking ends" nor a UNIX time."""
    gate = make_gate(zone=UTC)
    caplog.set_level(logging.INFO, logger="gate_agent")
    gate.scan_and_reply(grant_for=600)
    gate.scan_and_reply(OTHER_UID, grant_for=600, member_name=None)
    gate.scan_and_reply(OTHER_UID, allowed=False, message="No booking now")
    other = {"only_badges": [OTHER_UID]}
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF, **other))
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_EXTEND, grant_end=T0 + 60))
    gate.deliver(
        p.Topic.COMMAND,
        gate.command(p.ACTION_SWITCH_OFF, reason="booking_cancelled", message="Cancelled."),
    )
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_EXTEND, grant_end=T0 + 60))
    never_asked = p.BadgeRequest(
        device_id=DEVICE, nonce=p.new_nonce(), badge_uid=UID, sent_at=T0, firmware="1"
    )
    gate.deliver(
        p.Topic.REPLY,
        p.build_reply(
            never_asked, secret=SECRET, allowed=False, reason="no_booking", message="", now=T0
        ),
    )
    assert agent_log(caplog) == [
        "Site: allowed for 04A32B1C (Ada Lovelace) until 08:10",
        "Site: allowed for 0499AABBCCDDEE (unknown) until 08:10",
        "Scan of 0499AABBCCDDEE refused: the session of 04A32B1C runs until 08:10",
        "Site: denied for 0499AABBCCDDEE (Ada Lovelace) No booking now",
        "Ignored command message: switch_off for a badge that is not running this machine",
        "Ignored command message: extend to an earlier end",
        "Site command: switch off (booking_cancelled) Cancelled.",
        "Ignored command message: extend with no session running",
        "Rejected reply message: reply to no pending request; switching the relay off",
    ]


def test_the_gate_log_of_an_offline_grant_and_late_replies(gate, caplog):
    caplog.set_level(logging.INFO, logger="gate_agent")
    gate.deliver(p.Topic.ALLOWLIST, gate.allowlist((UID, T0, T0 + 3600)))
    for allowed in (True, False):
        gate.agent.on_badge(UID)
        late = gate.reply(allowed=allowed)
        gate.clock.advance(2)
        gate.agent.tick()
        gate.deliver(p.Topic.REPLY, late)
    assert agent_log(caplog) == [
        "No reply from the site in time: deciding offline",
        "Offline decision for 04A32B1C: offline_allowlist",
        "Ignored reply message: reply arrived after the request timed out",
        "No reply from the site in time: deciding offline",
        "Offline decision for 04A32B1C: offline_allowlist",
        "Site denied, late, a session granted offline: switching off",
    ]


def test_a_relay_that_will_not_switch_off_is_logged_as_critical(gate, caplog):
    """The worst case: switching off fails, and then so does recording the session's end."""
    gate.scan_and_reply(grant_for=600)

    def stuck() -> None:
        raise OSError("GPIO busy")

    gate.relay.off = stuck
    journal = gate.state_dir / "events.jsonl"
    journal.unlink()
    journal.mkdir()  # the event log can no longer be written
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF))
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert [r.getMessage() for r in critical] == ["Could not switch the relay off"]
    assert critical[0].exc_info[1].args == ("GPIO busy",)
    assert "Could not record the end of the session after an error" in agent_log(caplog)
    assert gate.agent.phase is Phase.IDLE
    shutil.rmtree(journal)
