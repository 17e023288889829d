"""In-memory hardware: a relay that records its transitions, scripted and stdin badge readers,
and indicators that record or log. Used by `--simulate` and by the tests."""

from __future__ import annotations

import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TextIO

from gate_agent.interfaces import SensorError

log = logging.getLogger(__name__)


class SimulatedRelay:
    """Records every transition; `on_change` lets a terminal show the state as it changes."""

    def __init__(self, on_change: Callable[[bool], None] | None = None) -> None:
        self.transitions: list[bool] = []
        self._on = False
        self._on_change = on_change

    def on(self) -> None:
        self._set(True)

    def off(self) -> None:
        self._set(False)

    @property
    def is_on(self) -> bool:
        return self._on

    def read_back(self) -> bool:
        return self._on

    def _set(self, state: bool) -> None:
        if state != self._on:
            self._on = state
            self.transitions.append(state)
            if self._on_change is not None:
                self._on_change(state)


class SimulatedMeter:
    """A power reading the test (or the simulator) sets; `failing` makes it raise."""

    def __init__(self, watts: float = 0.0) -> None:
        self.value, self.failing = watts, False

    def watts(self) -> float:
        if self.failing:
            raise SensorError("simulated meter failure")
        return self.value


class ScriptedReader:
    """Returns scans pushed with `scan()` (or given up front), in order."""

    def __init__(self, scans: Iterable[str] = ()) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        for uid in scans:
            self._queue.put(uid)

    def scan(self, uid: str) -> None:
        self._queue.put(uid)

    def read(self, timeout: float) -> str | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        """Nothing to release."""


class StdinReader(ScriptedReader):
    """Each line typed on the terminal (or piped in) is one scan."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self._stream = stream or sys.stdin
        # A daemon thread because a blocking readline cannot be interrupted portably.
        threading.Thread(target=self._pump, name="stdin-reader", daemon=True).start()

    def _pump(self) -> None:
        for line in self._stream:
            if line.strip():
                self.scan(line.strip())


class RecordingIndicator:
    """Remembers what it was told, for tests."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.warning = False

    def warn(self) -> None:
        self.calls.append("warn")
        self.warning = True

    def clear(self) -> None:
        self.calls.append("clear")
        self.warning = False

    def denied(self) -> None:
        self.calls.append("denied")


class RecordingDisplay:
    """Keeps every line shown, for tests."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def show(self, line: str) -> None:
        self.lines.append(line)


class TerminalDisplay:
    """Prints each line to the terminal the agent runs in (the simulator, a console on the Pi)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def show(self, line: str) -> None:
        print(f"GATE {line}", file=self._stream or sys.stdout, flush=True)


class LogIndicator:
    """Writes what a buzzer would do to the log: for the simulator and relay-only gates."""

    def warn(self) -> None:
        log.warning("Indicator: grant ends soon")

    def clear(self) -> None:
        log.info("Indicator: off")

    def denied(self) -> None:
        log.info("Indicator: scan refused")
