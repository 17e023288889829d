"""A small OLED (SSD1306, 128x64, I2C) through `luma.oled`: the gate's latest line, wrapped.

`OledDisplay` takes any luma device, so tests pass luma's own `dummy` device and read its image.
"""

from __future__ import annotations

import textwrap
from typing import Any

CHARS_PER_ROW = 21  # luma's default font is 6 px wide: 128 / 6
ROW_PIXELS = 10


class OledDisplay:
    def __init__(self, device: Any) -> None:
        self._device = device
        self.rows: list[str] = []

    @classmethod
    def on_i2c(cls, *, port: int = 1, address: int = 0x3C) -> OledDisplay:
        from luma.core.interface.serial import i2c
        from luma.oled.device import ssd1306

        return cls(ssd1306(i2c(port=port, address=address)))

    def show(self, line: str) -> None:
        from luma.core.render import canvas

        max_rows = max(1, self._device.height // ROW_PIXELS)
        self.rows = textwrap.wrap(line, CHARS_PER_ROW)[:max_rows]
        with canvas(self._device) as draw:
            for number, row in enumerate(self.rows):
                draw.text((0, number * ROW_PIXELS), row, fill="white")

    def close(self) -> None:
        self._device.cleanup()
