"""Busy or idle, from the power the machine draws: busy time for the site, idle auto-off.

Pure: readings and times come in, decisions go out; the agent does the switching. A reading at or
above `busy_watts` means busy, at or below `idle_watts` idle, in between the state is unchanged
(hysteresis, so a machine hovering near one threshold does not flap).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UsagePolicy:
    busy_watts: float
    idle_watts: float
    # Idle this long (since the last busy reading, or the session's start) warns ...
    idle_warn_seconds: float | None = None
    # ... and this much longer switches off. None: idle sessions run to their grant's end.
    idle_grace_seconds: float = 120.0
    sample_seconds: float = 2.0
    # Readings this soon after switching off may still show the load running down.
    settle_seconds: float = 3.0

    def __post_init__(self) -> None:
        if not 0 <= self.idle_watts < self.busy_watts:
            raise ValueError("idle_watts must be at least 0 and below busy_watts")

    def stray(self, watts: float) -> bool:
        """Power that should not flow through a relay that is off."""
        return watts > self.idle_watts


class BusyTracker:
    """One session's busy seconds and idle time, fed with readings as they are taken."""

    def __init__(self, policy: UsagePolicy, started: float) -> None:
        self._policy = policy
        self._busy = False
        self._last: float = started
        self._idle_since: float | None = started
        self._busy_seconds = 0.0

    def reading(self, now: float, watts: float) -> None:
        # The stretch since the last reading counts as the state it showed then.
        self._count(now)
        if watts >= self._policy.busy_watts:
            self._busy, self._idle_since = True, None
        elif watts <= self._policy.idle_watts and self._idle_since is None:
            # Idle from now: after a busy reading, or the first reading since the meter failed.
            self._busy, self._idle_since = False, now

    def no_reading(self, now: float) -> None:
        """The meter failed: the time since the last reading is neither busy nor idle, and idle
        time starts again from the next reading."""
        self._count(now)
        self._busy, self._idle_since = False, None

    def idle_seconds(self, now: float) -> float:
        return 0.0 if self._idle_since is None else now - self._idle_since

    def busy_seconds(self, now: float) -> int:
        """Busy time up to `now`, whole seconds."""
        return int(self._busy_seconds + self._busy_since_last(now))

    def _count(self, now: float) -> None:
        self._busy_seconds += self._busy_since_last(now)
        self._last = max(self._last, now)

    def _busy_since_last(self, now: float) -> float:
        # A clock stepped back (NTP correcting a Pi that booted without one) counts nothing.
        return max(0.0, now - self._last) if self._busy else 0.0
