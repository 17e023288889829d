"""The agent with a power meter and a relay that may fail: busy time, idle warning and auto-off,
current with the relay off (welded contactor), and failing closed when the relay misbehaves."""

from __future__ import annotations

from datetime import UTC

import pytest

from gate_agent import protocol as p
from gate_agent.agent import Phase
from gate_agent.hardware.simulated import SimulatedMeter
from gate_agent.switch import (
    ALARM_CURRENT_WHILE_OFF,
    ALARM_METER_FAILED,
    ALARM_RELAY_NOT_ON,
    ALARM_RELAY_UNREACHABLE,
)
from gate_agent.usage import BusyTracker, UsagePolicy

from .conftest import T0, FlakyRelay

POLICY = UsagePolicy(
    busy_watts=100,
    idle_watts=20,
    idle_warn_seconds=600,
    idle_grace_seconds=120,
    sample_seconds=2,
    settle_seconds=3,
)


@pytest.fixture
def powered(make_gate):
    def build(**kw):
        meter = SimulatedMeter()
        kw.setdefault("usage", POLICY)
        gate = make_gate(meter=meter, **kw)
        return gate, meter

    return build


def _run(gate, seconds: float, step: float = 2.0) -> None:
    """Let `seconds` pass in sampling steps."""
    for _ in range(round(seconds / step)):
        gate.clock.advance(step)
        gate.agent.tick()


def _events(gate, kind):
    return [e for e in gate.uploaded() if e["kind"] == kind]


class CountingMeter(SimulatedMeter):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def watts(self) -> float:
        self.calls += 1
        return super().watts()


def test_busy_seconds_are_recorded_at_session_end(powered):
    gate, meter = powered()
    gate.scan_and_reply(grant_for=3600)
    meter.value = 500
    _run(gate, 300)  # busy 5 minutes
    meter.value = 5
    _run(gate, 60)
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF, reason="emergency_stop"))
    (end,) = _events(gate, p.EVENT_SESSION_END)
    assert end["busy_seconds"] == 300


def test_readings_between_the_thresholds_keep_the_state():
    tracker = BusyTracker(POLICY, started=0)
    tracker.reading(0, 500)
    tracker.reading(10, 60)  # between idle and busy: still busy
    tracker.reading(20, 20)  # at idle_watts: idle
    tracker.reading(30, 99)  # between: still idle
    assert tracker.busy_seconds(30) == 20
    assert tracker.idle_seconds(30) == 10
    tracker.reading(40, 100)  # at busy_watts: busy
    assert tracker.idle_seconds(40) == 0 and tracker.busy_seconds(45) == 25


def test_busy_time_is_counted_up_to_the_end_and_not_while_the_meter_fails():
    tracker = BusyTracker(POLICY, started=0)
    tracker.reading(0, 500)
    assert tracker.busy_seconds(7) == 7
    tracker.no_reading(10)
    assert tracker.busy_seconds(50) == 10
    assert tracker.idle_seconds(50) == 0  # unknown is not idle


def test_busy_time_counts_to_the_instant_of_each_reading_and_of_the_end():
    tracker = BusyTracker(POLICY, started=T0)
    tracker.reading(T0, 500)
    tracker.reading(T0 + 10, 500)
    assert tracker.busy_seconds(T0 + 10) == 10
    assert tracker.busy_seconds(T0 + 13.5) == 13


def test_a_clock_stepped_back_neither_removes_busy_time_nor_counts_it_twice():
    tracker = BusyTracker(POLICY, started=0)
    tracker.reading(0, 500)
    tracker.reading(100, 500)
    tracker.reading(50, 500)  # NTP steps the clock back 50 s
    assert tracker.busy_seconds(50) == 100
    tracker.reading(120, 500)
    assert tracker.busy_seconds(150) == 150  # counting resumes once the clock is past 100 again


def test_busy_time_between_readings_counts_up_to_the_session_end(powered):
    gate, meter = powered()
    meter.value = 500
    gate.scan_and_reply(grant_for=3600)
    gate.agent.tick()  # the first reading, at the start
    _run(gate, 10)
    gate.clock.advance(1)  # the switch-off comes a second after the last reading
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF, reason="emergency_stop"))
    (end,) = _events(gate, p.EVENT_SESSION_END)
    assert end["busy_seconds"] == 11


def test_an_idle_session_warns_then_switches_off_with_its_reason(powered, caplog):
    caplog.set_level("WARNING", logger="gate_agent.agent")
    gate, meter = powered(zone=UTC)  # T0 is 08:00 UTC
    gate.scan_and_reply(grant_for=3 * 3600)
    meter.value = 500
    _run(gate, 60)
    meter.value = 5
    _run(gate, 600)  # idle since the first idle reading (08:01:02), 598 s ago
    assert gate.indicator.calls.count("warn") == 0
    _run(gate, 2)  # idle 600 s
    assert gate.indicator.warning and gate.relay.is_on
    idle_line = "Idle: switching off at 08:13 unless the machine is used"  # 08:01:02 + 720 s
    assert gate.display.lines == ["Ada Lovelace: on until 11:00", idle_line]
    for _ in range(59):  # the 118 s of grace: the warning stands, unchanged
        _run(gate, 2)
        assert gate.relay.is_on and gate.indicator.warning
    assert gate.display.lines[-1] == idle_line
    _run(gate, 2)  # 600 + 120 s idle
    assert not gate.relay.is_on and gate.agent.phase is Phase.IDLE
    (end,) = _events(gate, p.EVENT_SESSION_END)
    assert end["reason"] == "idle_timeout" and end["busy_seconds"] == 60
    assert gate.display.lines[-1] == "Off: idle too long"
    assert caplog.messages == ["Idle for 720 s: switching off"]


def test_use_after_the_idle_warning_keeps_the_machine_on(powered):
    gate, meter = powered()
    gate.scan_and_reply(grant_for=3 * 3600)
    _run(gate, 600)  # idle from the start
    assert gate.indicator.warning
    meter.value = 500
    _run(gate, 2)
    assert not gate.indicator.warning and gate.display.lines[-1].startswith("In use: on until")
    meter.value = 5
    _run(gate, 600)  # idle since the first idle reading after the busy one, 598 s ago
    assert gate.relay.is_on and not gate.indicator.warning
    _run(gate, 2)
    assert gate.indicator.warning  # a second idle stretch warns again before switching off
    assert gate.display.lines[-1].startswith("Idle: switching off at")


def test_without_an_idle_limit_idle_sessions_run_to_the_grant_end(powered):
    gate, _ = powered(usage=UsagePolicy(busy_watts=100, idle_watts=20))
    gate.scan_and_reply(grant_for=3600)
    _run(gate, 3000)
    assert gate.relay.is_on


def test_current_with_the_relay_off_raises_the_alarm_at_once_and_once(powered):
    gate, meter = powered()
    _run(gate, 4)
    meter.value = 800  # welded contactor: the machine runs with no session
    _run(gate, 2)
    (alarm,) = _events(gate, p.EVENT_ALARM)
    assert alarm["reason"] == ALARM_CURRENT_WHILE_OFF and alarm["session_id"] is None
    assert gate.display.lines[-1] == (
        "ALARM: 800 W flowing with the relay off: welded contactor or bypass?"
    )
    _run(gate, 20)
    assert len(_events(gate, p.EVENT_ALARM)) == 1
    meter.value = 0
    _run(gate, 2)
    meter.value = 800
    _run(gate, 2)
    assert len(_events(gate, p.EVENT_ALARM)) == 2  # a new episode


def test_current_just_after_switching_off_is_the_load_running_down(powered):
    gate, meter = powered()
    gate.scan_and_reply(grant_for=3600)
    meter.value = 800
    _run(gate, 10)
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF, reason="emergency_stop"))
    _run(gate, 2)  # 2 s after the off: within settle_seconds
    assert _events(gate, p.EVENT_ALARM) == []
    _run(gate, 2)
    assert [a["reason"] for a in _events(gate, p.EVENT_ALARM)] == [ALARM_CURRENT_WHILE_OFF]


def test_current_at_the_idle_threshold_with_the_relay_off_is_no_alarm(powered):
    gate, meter = powered()
    meter.value = 20
    _run(gate, 10)
    assert _events(gate, p.EVENT_ALARM) == []
    meter.value = 21
    _run(gate, 2)
    assert len(_events(gate, p.EVENT_ALARM)) == 1


def test_a_failing_meter_raises_one_alarm_and_the_session_goes_on(powered, caplog):
    caplog.set_level("ERROR", logger="gate_agent.agent")
    gate, meter = powered()
    gate.scan_and_reply(grant_for=3600)
    meter.failing = True
    _run(gate, 900)
    assert gate.relay.is_on  # no reading is not idle
    assert [a["reason"] for a in _events(gate, p.EVENT_ALARM)] == [ALARM_METER_FAILED]
    assert gate.display.lines[-1] == "ALARM: No power reading: simulated meter failure"
    assert caplog.messages == ["ALARM meter_failed: No power reading: simulated meter failure"]


def test_a_meter_that_fails_again_after_answering_raises_a_new_alarm(powered):
    gate, meter = powered()
    meter.failing = True
    _run(gate, 2)
    meter.failing = False
    _run(gate, 10)
    meter.failing = True
    _run(gate, 2)
    assert [a["reason"] for a in _events(gate, p.EVENT_ALARM)] == [ALARM_METER_FAILED] * 2


def test_busy_time_stops_counting_while_the_meter_fails(powered):
    gate, meter = powered()
    meter.value = 500
    gate.scan_and_reply(grant_for=3600)
    gate.agent.tick()
    _run(gate, 60)
    meter.failing = True
    _run(gate, 300)
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF, reason="emergency_stop"))
    (end,) = _events(gate, p.EVENT_SESSION_END)
    assert end["busy_seconds"] == 62  # up to the failed reading, 2 s after the last good one


def test_an_error_during_a_session_still_reports_its_busy_time(powered):
    gate, meter = powered()
    meter.value = 500
    gate.scan_and_reply(grant_for=600)
    gate.agent.tick()
    gate.indicator.warn = lambda: 1 / 0  # fails when the end-of-grant warning is due
    _run(gate, 300)
    (end,) = _events(gate, p.EVENT_SESSION_END)
    assert (end["reason"], end["busy_seconds"]) == ("agent_error", 300)


def test_the_meter_is_read_every_sample_seconds_however_often_the_agent_ticks(make_gate):
    meter = CountingMeter()
    gate = make_gate(meter=meter, usage=POLICY)
    _run(gate, 10, step=0.5)
    assert meter.calls == 5


def test_a_meter_without_a_usage_policy_is_not_read_and_the_session_runs(make_gate):
    """The simulator always has a meter; a config without [power] gives it no thresholds."""
    meter = CountingMeter()
    gate = make_gate(meter=meter)
    gate.scan_and_reply(grant_for=600)
    _run(gate, 60)
    assert gate.relay.is_on and meter.calls == 0
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF, reason="emergency_stop"))
    (end,) = _events(gate, p.EVENT_SESSION_END)
    assert end["reason"] == "emergency_stop" and "busy_seconds" not in end


def test_without_a_meter_the_busy_time_is_unknown_not_zero(make_gate):
    gate = make_gate(usage=POLICY)
    gate.scan_and_reply(grant_for=600)
    gate.clock.advance(600)
    gate.agent.tick()
    (end,) = _events(gate, p.EVENT_SESSION_END)
    assert end["reason"] == "grant_expired" and "busy_seconds" not in end


def test_idle_time_counts_again_from_the_first_reading_after_the_meter_recovers(powered):
    gate, meter = powered()
    gate.scan_and_reply(grant_for=3 * 3600)
    meter.failing = True
    _run(gate, 300)
    meter.failing, meter.value = False, 5
    _run(gate, 10)  # a failed meter is asked every 10 s: the first idle reading is in here
    _run(gate, 700)
    assert gate.relay.is_on  # idle at most 710 s of the 600 + 120 allowed
    _run(gate, 20)
    assert not gate.relay.is_on
    (end,) = _events(gate, p.EVENT_SESSION_END)
    assert end["reason"] == "idle_timeout"


def test_a_failing_meter_is_asked_less_often_until_it_answers(make_gate):
    meter = CountingMeter()
    gate = make_gate(meter=meter, usage=POLICY)
    meter.failing = True
    _run(gate, 2)
    assert meter.calls == 1
    _run(gate, 8)
    assert meter.calls == 1  # 10 s between tries
    _run(gate, 2)
    assert meter.calls == 2
    meter.failing = False
    _run(gate, 10)
    calls = meter.calls
    _run(gate, 4)
    assert meter.calls == calls + 2  # every sample_seconds again


def test_an_unreachable_plug_fails_closed_and_is_retried_off(make_gate):
    relay = FlakyRelay()
    gate = make_gate(relay=relay, relay_retry_seconds=5)
    relay.unreachable = True
    gate.scan_and_reply()
    assert gate.agent.phase is Phase.IDLE
    (alarm,) = _events(gate, p.EVENT_ALARM)
    assert alarm["reason"] == ALARM_RELAY_UNREACHABLE
    (end,) = _events(gate, p.EVENT_SESSION_END)
    assert end["reason"] == "relay_failed"
    assert gate.display.lines[-1].startswith("Off: the relay did not switch")
    relay.unreachable = False
    relay._on = True  # it did switch on before it stopped answering
    gate.clock.advance(5)
    gate.agent.tick()
    assert not relay.is_on


def test_a_plug_that_does_not_switch_on_ends_the_session(make_gate):
    relay = FlakyRelay()
    relay.ignores_on = True
    gate = make_gate(relay=relay)
    gate.scan_and_reply()
    assert gate.agent.phase is Phase.IDLE
    assert [a["reason"] for a in _events(gate, p.EVENT_ALARM)] == [ALARM_RELAY_NOT_ON]
    assert _events(gate, p.EVENT_SESSION_END)[0]["reason"] == "relay_failed"


def test_a_plug_unreachable_at_start_up_is_reported_and_the_agent_runs(make_gate, caplog):
    relay = FlakyRelay()
    relay.unreachable = True
    gate = make_gate(relay=relay)
    assert [a["reason"] for a in _events(gate, p.EVENT_ALARM)] == [ALARM_RELAY_UNREACHABLE]
    (first, *_) = [r for r in caplog.records if r.name == "gate_agent.agent"]
    assert first.getMessage() == "Could not switch the relay off at start-up; retrying"
    assert first.exc_info[1].args == ("timed out",)


def test_the_display_says_until_when_in_the_gates_zone(make_gate):
    from zoneinfo import ZoneInfo

    gate = make_gate(zone=ZoneInfo("Europe/Berlin"))
    # T0 is 08:00 UTC, 09:00 in Berlin in January.
    gate.scan_and_reply(grant_for=3600)
    assert gate.display.lines[-1] == "Ada Lovelace: on until 10:00"
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_EXTEND, grant_end=int(gate.clock()) + 5400))
    assert gate.display.lines[-1] == "Extended: on until 10:30"
    gate.clock.advance(5400 - 300)
    gate.agent.tick()
    assert gate.display.lines[-1] == "Switching off at 10:30 (in 5 min)"
    gate.clock.advance(300)
    gate.agent.tick()
    assert gate.display.lines[-1] == "Off: time is up"


def test_a_refused_scan_says_why(make_gate):
    gate = make_gate()
    gate.scan_and_reply(allowed=False)
    assert gate.display.lines[-1] == "Denied: No booking now"


def test_a_failing_display_never_touches_the_relay(make_gate):
    class Broken:
        def show(self, line: str) -> None:
            raise OSError("display unplugged")

    gate = make_gate(display=Broken())
    gate.scan_and_reply()
    assert gate.relay.is_on and gate.agent.phase is Phase.ON


def test_allowlist_lines_are_logged_at_debug(make_gate, caplog):
    gate = make_gate()
    allowlist = gate.allowlist(version=3)
    caplog.set_level("DEBUG", logger="gate_agent")
    gate.deliver(p.Topic.ALLOWLIST, allowlist)
    gate.deliver(p.Topic.ALLOWLIST, allowlist)
    lines = [r for r in caplog.records if "llow" in r.getMessage()]
    assert [r.getMessage().split(":")[0] for r in lines] == [
        "Allow-list v3 adopted",
        "Ignored allowlist message",
    ]
    assert {r.levelname for r in lines} == {"DEBUG"}


@pytest.mark.parametrize(("busy", "idle"), [(100, 100), (100, 120), (100, -1)])
def test_usage_policy_needs_idle_below_busy_and_not_negative(busy, idle):
    with pytest.raises(ValueError, match=r"^idle_watts must be at least 0 and below busy_watts$"):
        UsagePolicy(busy_watts=busy, idle_watts=idle)


def test_usage_policy_may_call_any_power_idle_but_none():
    policy = UsagePolicy(busy_watts=5, idle_watts=0)
    assert not policy.stray(0) and policy.stray(0.5)


def test_the_welded_contactor_check_starts_exactly_settle_seconds_after_the_off(make_gate):
    meter = SimulatedMeter()
    policy = UsagePolicy(busy_watts=100, idle_watts=20, sample_seconds=1, settle_seconds=3)
    gate = make_gate(meter=meter, usage=policy)
    gate.scan_and_reply(grant_for=3600)
    meter.value = 800
    gate.agent.tick()
    gate.deliver(p.Topic.COMMAND, gate.command(p.ACTION_SWITCH_OFF, reason="emergency_stop"))
    gate.clock.advance(2)
    gate.agent.tick()
    assert _events(gate, p.EVENT_ALARM) == []
    gate.clock.advance(1)
    gate.agent.tick()
    assert [a["reason"] for a in _events(gate, p.EVENT_ALARM)] == [ALARM_CURRENT_WHILE_OFF]


def test_an_alarm_during_a_session_names_it(make_gate):
    meter = SimulatedMeter()
    gate = make_gate(meter=meter, usage=POLICY)
    gate.scan_and_reply()
    meter.failing = True
    _run(gate, 2)
    (alarm,) = _events(gate, p.EVENT_ALARM)
    (start,) = _events(gate, p.EVENT_SESSION_START)
    assert (alarm["session_id"], alarm["badge_uid"]) == (start["session_id"], start["badge_uid"])


def test_a_korean_gate_raises_the_alarm_in_korean(powered):
    """The alarm's reason code picks the catalogue's sentence on a gate set to Korean."""
    from gate_agent.i18n import translations
    from gate_agent.screen import ALARM_SENTENCES

    gate, meter = powered(language="ko")
    _run(gate, 4)
    meter.value = 800
    _run(gate, 2)
    korean = translations("ko").gettext(ALARM_SENTENCES[ALARM_CURRENT_WHILE_OFF])
    assert korean != ALARM_SENTENCES[ALARM_CURRENT_WHILE_OFF]
    assert korean in gate.display.lines[-1]
