"""A keyboard-wedge badge reader without a USB device, for the simulator and the tests.

`VirtualWedge` types a UID as such a reader does (a key down and up per character, Enter) through
a socket pair: evdev's own code writes each event in the kernel's `struct input_event` layout on
one end and reads it on the other, so `EvdevReader` runs unchanged on the `device` end, as on
`/dev/input/event<n>` (uinput, the kernel's way, needs root and a module the CI has not).
"""

from __future__ import annotations

import socket
from typing import Any, cast

# Characters a wedge types for a UID, with the key and whether Shift is held for it.
_SHIFTED = {":": "KEY_SEMICOLON", "_": "KEY_MINUS"}
_PLAIN = {"-": "KEY_MINUS", " ": "KEY_SPACE", ".": "KEY_DOT"}


class VirtualWedge:
    def __init__(self) -> None:
        from evdev import ecodes
        from evdev.eventio import EventIO

        self._ecodes = ecodes
        # Each event is one small write, and evdev reads whole multiples of an event's size: a
        # read never ends inside one.
        self._reading, self._writing = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # EventIO is what evdev's InputDevice reads and writes with, on the file in `fd`.
        self.device: Any = cast(Any, EventIO())  # what EvdevReader reads, as an InputDevice
        self.device.fd = self._reading.fileno()
        self._keyboard: Any = cast(Any, EventIO())
        self._keyboard.fd = self._writing.fileno()

    def type(self, text: str) -> None:
        """Type `text` and Enter."""
        for char in text.upper():
            if char in _SHIFTED:
                self._press(_SHIFTED[char], shift=True)
            elif char in _PLAIN:
                self._press(_PLAIN[char])
            elif char.isascii() and char.isalnum():
                self._press(f"KEY_{char}")
            else:
                raise ValueError(f"a keyboard wedge does not type {char!r}")
        self._press("KEY_ENTER")

    def close(self) -> None:
        self._writing.close()
        self._reading.close()

    def _press(self, key: str, *, shift: bool = False) -> None:
        ecodes, keyboard = self._ecodes, self._keyboard
        code = ecodes.ecodes[key]
        if shift:
            keyboard.write(ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 1)
        for value in (1, 0):  # down, up
            keyboard.write(ecodes.EV_KEY, code, value)
            keyboard.syn()
        if shift:
            keyboard.write(ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 0)
            keyboard.syn()
