"""What the agent needs from the hardware and the network, as `typing.Protocol`s.

Real backends (gpiozero, evdev, pyserial, paho-mqtt) and simulated ones satisfy the same
interfaces, so the agent code that runs on the Pi is the code the tests drive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

Clock = Callable[[], float]
"""Returns UNIX seconds; injected so tests move time without sleeping."""


class RelayError(Exception):
    """The relay could not be switched or read (a smart plug that does not answer, say)."""


class SensorError(Exception):
    """The power reading could not be taken."""


@runtime_checkable
class Relay(Protocol):
    """The machine's power relay. `off()` must be safe to call at any time, any number of times.

    `on()` and `off()` raise `RelayError` when the device cannot be reached; `is_on` is the state
    last commanded, `read_back()` the state the device itself reports (a GPIO pin's level, a smart
    plug's output), also raising `RelayError`. The agent reads back after every switch.
    """

    def on(self) -> None: ...

    def off(self) -> None: ...

    @property
    def is_on(self) -> bool: ...

    def read_back(self) -> bool: ...


@runtime_checkable
class PowerMeter(Protocol):
    """What the machine draws now, in watts: a smart plug's meter or a current clamp."""

    def watts(self) -> float:
        """The latest reading; raises `SensorError` if there is none."""
        ...


@runtime_checkable
class BadgeReader(Protocol):
    """A badge reader that yields raw UID text as the reader printed it."""

    def read(self, timeout: float) -> str | None:
        """Wait up to `timeout` seconds for one scan; None if there was none."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Indicator(Protocol):
    """A buzzer or LED that tells the person at the machine what is happening."""

    def warn(self) -> None:
        """The grant ends soon: keep signalling until `clear()`."""
        ...

    def clear(self) -> None: ...

    def denied(self) -> None:
        """A short signal: the scan was refused."""
        ...


@runtime_checkable
class Display(Protocol):
    """What the person at the machine reads: the terminal, or a small screen."""

    def show(self, line: str) -> None:
        """Show `line` (at most a short sentence) until the next one."""
        ...


class Transport(Protocol):
    """Publishes to the broker (always QoS 1). Implemented over paho-mqtt and in tests."""

    @property
    def connected(self) -> bool: ...

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        retain: bool = False,
        on_ack: Callable[[], None] | None = None,
    ) -> bool:
        """Queue a message; False if it could not be sent now (offline). `on_ack` runs, possibly
        on another thread, once the broker has acknowledged it (PUBACK)."""
        ...
