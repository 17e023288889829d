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
    def __init__(
        self, relay: Relay, *, alarm: Alarm, clock: Clock, retry_seconds: float = 5.0
    ) -> None:
        self._relay, self._alarm, self._clock = relay, alarm, clock
        self._retry_seconds = retry_seconds
        self._off_pending = False
        self._next_retry = 0.0
        self._raised: set[str] = set()  # alarms of the current failure, raised once each
        self.off_since = clock()

    @property
    def off_confirmed(self) -> bool:
        """The last off was read back as off (and nothing switched on since)."""
        return not self._off_pending and not self._relay.is_on

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
        self._off_pending = False
        return True

    def off(self) -> bool:
        """Switch off; True if the relay reads back off. Otherwise it is retried by `retry()`."""
        self._off_pending, self.off_since = True, self._clock()
        self._next_retry = self.off_since + self._retry_seconds
        try:
            self._relay.off()
            still_on = self._relay.read_back()
        except Exception as exc:
            self._raise(ALARM_RELAY_UNREACHABLE, f"Switching off failed, retrying: {exc}")
            return False
        if still_on:
            self._raise(ALARM_RELAY_STUCK_ON, "The relay was switched off but reads on.")
            return False
        if self._raised:
            log.warning("Relay confirmed off again")
        self._off_pending = False
        self._raised.clear()
        return True

    def retry(self) -> None:
        """Try an unconfirmed off again once `retry_seconds` have passed."""
        if self._off_pending and self._clock() >= self._next_retry:
            self.off()

    def _raise(self, reason: str, sentence: str) -> None:
        log.error("Relay alarm %s: %s", reason, sentence)
        if reason not in self._raised:
            self._raised.add(reason)
            self._alarm(reason, sentence)
