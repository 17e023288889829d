"""Serial badge readers (RS-232/TTL/USB-serial) that send one UID per line, via pyserial.

`LineBuffer` splits the byte stream into UIDs and is pure, so it is tested without a port.
"""

from __future__ import annotations

import re
import time
from collections import deque

# EM4100-style readers frame each tag with STX (0x02) ... ETX (0x03); others end with CR and/or LF.
_TERMINATORS = re.compile(rb"[\r\n\x03]")
_MAX_LINE = 64


class LineBuffer:
    """Accumulates bytes and returns the complete, non-empty lines (as text) they contain."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[str]:
        parts = _TERMINATORS.split(self._pending + data)
        self._pending = parts.pop()
        if len(self._pending) > _MAX_LINE:
            # No terminator within a plausible UID length: line noise, drop it.
            self._pending = b""
        return [line for line in map(parse_line, parts) if line]


def parse_line(raw: bytes) -> str:
    """The UID text in one line: STX and surrounding whitespace removed, non-ASCII dropped."""
    return raw.replace(b"\x02", b"").decode("ascii", errors="ignore").strip()[:_MAX_LINE]


class SerialReader:
    def __init__(self, port: str, *, baudrate: int = 9600) -> None:
        import serial

        self._port = serial.Serial(port, baudrate=baudrate, timeout=0.1)
        self._buffer = LineBuffer()
        self._ready: deque[str] = deque()

    def read(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while not self._ready and time.monotonic() < deadline:
            data = self._port.read(max(1, self._port.in_waiting))
            self._ready.extend(self._buffer.feed(data))
        return self._ready.popleft() if self._ready else None

    def close(self) -> None:
        self._port.close()
