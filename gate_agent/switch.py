"""Switching the relay and confirming it: what the agent calls instead of `relay.on()`/`off()`.

After every switch the relay's real state is read back. A relay that cannot be reached or does not
follow raises an alarm; switching on then counts as failed (and the relay is switched off), and an
off that is not confirmed is retried every `retry_seconds` until it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gate_agent.interfaces import Clock, Relay

log = logging.getLogger(__name__)

ALARM_RELAY_UNREACHABLE = "relay_unreachable"
ALARM_RELAY_NOT_ON = "relay_not_on"  # commanded on, reads off
ALARM_RELAY_STUCK_ON = "relay_stuck_on"  # commanded off, reads on
ALARM_CURRENT_WHILE_OFF = "current_while_off"  # a welded contactor, or a bypass
ALARM_METER_FAILED = "meter_failed"
ALARMS = frozenset(
    {
        ALARM_RELAY_UNREACHABLE,
        ALARM_RELAY_NOT_ON,
        ALARM_RELAY_STUCK_ON,
        ALARM_CURRENT_WHILE_OFF,
        ALARM_METER_FAILED,
    }
)

Alarm = Callable[[str, str], None]
"""Called with (reason code, sentence) to record an alarm event."""


class Switch:
    """Switches the relay off as soon as it is made: the machine starts unpowered, and a relay
    that cannot be reached then is alarmed and retried like any other unconfirmed off."""

    # Both set by off(), which __init__ calls.
    off_since: float
    _retry_at: float | None  # when to try an unconfirmed off again; None once it is confirmed

    def __init__(self, relay: Relay, *, alarm: Alarm, clock: Clock, retry_seconds: float) -> None:
        self._relay, self._alarm, self._clock = relay, alarm, clock
        self._retry_seconds = retry_seconds
        self._raised: set[str] = set()  # alarms of the current failure, raised once each
        self.off()

    @property
    def off_confirmed(self) -> bool:
        """The last off was read back as off (and nothing switched on since)."""
        return self._retry_at is None and not self._relay.is_on

    def on(self) -> bool:
        """Switch on; True only if the relay reads back on. Otherwise it is switched off."""
        try:
            self._relay.on()
            real = self._relay.read_back()
        except Exception as exc:
            self._raise(ALARM_RELAY_UNREACHABLE, f"Switching on failed: {exc}")
            self.off()
            return False
        if not real:
            self._raise(ALARM_RELAY_NOT_ON, "The relay was switched on but reads off.")
            self.off()
            return False
        self._retry_at = None
        return True

    def off(self) -> None:
        """Switch off and read back; an off that is not confirmed is retried by `retry()`."""
        self.off_since = self._clock()
        self._retry_at = self.off_since + self._retry_seconds
        try:
            self._relay.off()
            still_on = self._relay.read_back()
        except Exception as exc:
            self._raise(ALARM_RELAY_UNREACHABLE, f"Switching off failed, retrying: {exc}")
            return
        if still_on:
            self._raise(ALARM_RELAY_STUCK_ON, "The relay was switched off but reads on.")
            return
        if self._raised:
            log.warning("Relay confirmed off again")
        self._retry_at = None
        self._raised.clear()

    def retry(self) -> None:
        """Try an unconfirmed off again once `retry_seconds` have passed."""
        if self._retry_at is not None and self._clock() >= self._retry_at:
            self.off()

    def _raise(self, reason: str, sentence: str) -> None:
        log.error("Relay alarm %s: %s", reason, sentence)
        if reason not in self._raised:
            self._raised.add(reason)
            self._alarm(reason, sentence)
