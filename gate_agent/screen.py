"""The lines the person at the machine reads, with times in the gate's own time zone.

`Screen` wraps a `Display`: a display that fails is logged and never touches the relay.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

from gate_agent.interfaces import Display

log = logging.getLogger(__name__)

END_SENTENCES = {
    "grant_expired": "time is up",
    "idle_timeout": "idle too long",
    "relay_failed": "the relay did not switch; staff are told",
    "message_rejected": "the gate refused a message it could not trust",
    "agent_error": "the gate stopped on an error",
    "agent_stopped": "the gate was shut down",
    "emergency_stop": "emergency stop",
    "out_of_service": "the machine was taken out of service",
    "allowlist_withdrawn": "your access was withdrawn",
}


class Screen:
    def __init__(self, display: Display | None, zone: tzinfo | None) -> None:
        self._display, self._zone = display, zone

    def at(self, timestamp: float) -> str:
        """`timestamp` as the wall-clock time at the gate, e.g. 22:00."""
        return datetime.fromtimestamp(timestamp, self._zone).strftime("%H:%M")

    def show(self, line: str) -> None:
        if self._display is None:
            log.info("Display: %s", line)
            return
        try:
            self._display.show(line)
        except Exception:
            log.exception("The display failed to show %r", line)

    def on_until(self, name: str | None, grant_end: int, *, offline: bool) -> None:
        who = f"{name}: on" if name else "On"
        self.show(f"{who} until {self.at(grant_end)}{' (offline)' if offline else ''}")

    def extended(self, grant_end: int) -> None:
        self.show(f"Extended: on until {self.at(grant_end)}")

    def ends_soon(self, grant_end: int, now: float) -> None:
        minutes = max(1, round((grant_end - now) / 60))
        self.show(f"Switching off at {self.at(grant_end)} (in {minutes} min)")

    def idle(self, off_at: float) -> None:
        self.show(f"Idle: switching off at {self.at(off_at)} unless the machine is used")

    def in_use(self, grant_end: int) -> None:
        self.show(f"In use: on until {self.at(grant_end)}")

    def denied(self, text: str) -> None:
        self.show(f"Denied: {text}")

    def off(self, reason: str) -> None:
        self.show(f"Off: {END_SENTENCES.get(reason, reason.replace('_', ' '))}")

    def alarm(self, sentence: str) -> None:
        self.show(f"ALARM: {sentence}")
