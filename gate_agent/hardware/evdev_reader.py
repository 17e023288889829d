"""Keyboard-wedge badge readers (USB HID "keyboards" that type the UID then Enter), via evdev.

`WedgeDecoder` turns key events into UIDs and is pure, so it is tested without evdev or a device.
"""

from __future__ import annotations

import select
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

KEY_DOWN = 1
# A real UID is at most 30 characters even with separators; longer input is noise, not a badge.
MAX_UID_CHARS = 64
_ENTER = frozenset({"KEY_ENTER", "KEY_KPENTER"})
_SHIFT = frozenset({"KEY_LEFTSHIFT", "KEY_RIGHTSHIFT"})
_CHARS = {
    **{f"KEY_{d}": d for d in "0123456789"},
    **{f"KEY_KP{d}": d for d in "0123456789"},
    **{f"KEY_{c}": c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    "KEY_MINUS": "-",
    "KEY_KPMINUS": "-",
    "KEY_SPACE": " ",
    "KEY_DOT": ".",
}
_SHIFTED = {"KEY_SEMICOLON": ":", "KEY_MINUS": "_"}


class WedgeDecoder:
    """Accumulates key-down events into text; Enter completes one UID."""

    def __init__(self) -> None:
        self._chars: list[str] = []
        self._shift = False
        self._overflow = False  # too much text before Enter: drop the whole line

    def feed(self, keycode: str, value: int) -> str | None:
        """Feed one key event (`value`: 1 down, 0 up, 2 repeat); returns a UID on Enter."""
        if keycode in _SHIFT:
            self._shift = value != 0
            return None
        if value != KEY_DOWN:
            return None
        if keycode in _ENTER:
            text, self._chars = "".join(self._chars).strip(), []
            overflow, self._overflow = self._overflow, False
            return None if overflow or not text else text
        char = _SHIFTED.get(keycode) if self._shift else None
        char = char or _CHARS.get(keycode)
        if char is not None:
            self._chars.append(char)
        if len(self._chars) > MAX_UID_CHARS:
            self._chars.clear()
            self._overflow = True
        return None


def keys_to_uids(events: Iterable[tuple[str, int]]) -> Iterator[str]:
    """Decode a stream of (keycode, value) events into the UIDs they type."""
    decoder = WedgeDecoder()
    for keycode, value in events:
        uid = decoder.feed(keycode, value)
        if uid is not None:
            yield uid


class EvdevReader:
    """Reads one input device: an evdev `InputDevice`, or any evdev `EventIO` (the simulator's
    `VirtualWedge`)."""

    def __init__(self, device: Any) -> None:
        from evdev import ecodes

        self._ecodes = ecodes
        self._device = device
        self._decoder = WedgeDecoder()
        self._ready: deque[str] = deque()

    @classmethod
    def open(cls, path: str, *, grab: bool = True) -> EvdevReader:
        """The reader at `path`; `grab` keeps the typed UIDs from reaching a console or desktop."""
        import evdev

        device = evdev.InputDevice(path)
        if grab:
            device.grab()
        return cls(device)

    def read(self, timeout: float) -> str | None:
        # A UID arrives as a burst of key events: read them until Enter, or the time is up.
        deadline = time.monotonic() + timeout
        while not self._ready:
            remaining = max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([self._device.fd], [], [], remaining)
            if not readable:
                break
            self._drain()
        return self._ready.popleft() if self._ready else None

    def _drain(self) -> None:
        for event in self._device.read():
            if event.type != self._ecodes.EV_KEY:
                continue
            name = self._ecodes.KEY.get(event.code, "")
            # evdev maps some codes to several names; the first is the canonical one.
            keycode = name[0] if isinstance(name, list | tuple) else name
            uid = self._decoder.feed(keycode, event.value)
            if uid is not None:
                self._ready.append(uid)

    def close(self) -> None:
        self._device.close()
