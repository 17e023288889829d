"""gpiozero backends: the relay on one GPIO pin, an optional buzzer/LED on another."""

from __future__ import annotations

from typing import Any


class GpioRelay:
    """A relay driven by one GPIO pin; starts (and closes) switched off.

    `active_high=False` is for the common opto-isolated relay boards that energise on a low pin.
    `pin_factory` lets tests pass gpiozero's `MockFactory`.
    """

    def __init__(self, pin: int, *, active_high: bool = True, pin_factory: Any = None) -> None:
        from gpiozero import DigitalOutputDevice

        self._device = DigitalOutputDevice(
            pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
        )

    def on(self) -> None:
        self._device.on()

    def off(self) -> None:
        self._device.off()

    @property
    def is_on(self) -> bool:
        return bool(self._device.value)

    def read_back(self) -> bool:
        """The pin's level as the GPIO chip reports it (not what a welded contact does: that
        takes a current sensor)."""
        return bool(self._device.pin.state) == bool(self._device.active_high)

    def close(self) -> None:
        self._device.off()
        self._device.close()


class GpioIndicator:
    """A buzzer or LED: blinks slowly while the grant is about to end, three quick blinks on a
    refused scan."""

    def __init__(self, pin: int, *, active_high: bool = True, pin_factory: Any = None) -> None:
        from gpiozero import DigitalOutputDevice

        self._device = DigitalOutputDevice(
            pin, active_high=active_high, initial_value=False, pin_factory=pin_factory
        )

    def warn(self) -> None:
        self._device.blink(on_time=0.5, off_time=0.5)

    def clear(self) -> None:
        self._device.off()

    def denied(self) -> None:
        self._device.blink(on_time=0.1, off_time=0.1, n=3)

    def close(self) -> None:
        self._device.close()
