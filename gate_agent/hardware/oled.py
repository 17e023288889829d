"""A small OLED (SSD1306, 128x64, I2C) through `luma.oled`: the gate's latest line, wrapped.

`OledDisplay` takes any luma device, so tests pass luma's own `dummy` device and read its image.
luma's built-in font has only Latin letters: a gate that speaks another language is given a
TrueType font that has its script (Korean: NanumGothic, Debian's `fonts-nanum`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

CHARS_PER_ROW = 21  # luma's default font is 6 px wide: 128 / 6
ROW_PIXELS = 10


class OledDisplay:
    def __init__(self, device: Any, *, font: Path | None = None, font_size: int = 12) -> None:
        self._device = device
        self._font: Any = None
        self._row_pixels = ROW_PIXELS
        if font is not None:
            from PIL import ImageFont

            self._font = ImageFont.truetype(str(font), font_size)
            self._row_pixels = font_size + 2
        self.rows: list[str] = []

    @classmethod
    def on_i2c(
        cls, *, port: int = 1, address: int = 0x3C, font: Path | None = None, font_size: int = 12
    ) -> OledDisplay:
        from luma.core.interface.serial import i2c
        from luma.oled.device import ssd1306

        return cls(ssd1306(i2c(port=port, address=address)), font=font, font_size=font_size)

    def show(self, line: str) -> None:
        from luma.core.render import canvas

        max_rows = max(1, self._device.height // self._row_pixels)
        self.rows = self._wrap(line)[:max_rows]
        with canvas(self._device) as draw:
            for number, row in enumerate(self.rows):
                draw.text((0, number * self._row_pixels), row, fill="white", font=self._font)

    def _wrap(self, line: str) -> list[str]:
        """Rows that fit the screen's width: by characters for the built-in font, by measured
        pixels for a TrueType one (a Hangul syllable is about twice a Latin letter's width)."""
        if self._font is None:
            return textwrap.wrap(line, CHARS_PER_ROW)
        width = self._device.width
        rows: list[str] = []
        row = ""
        for word in line.split():
            candidate = f"{row} {word}" if row else word
            if self._font.getlength(candidate) <= width:
                row = candidate
                continue
            if row:
                rows.append(row)
            row = ""
            for char in word:  # a word wider than the screen breaks where it must
                if row and self._font.getlength(row + char) > width:
                    rows.append(row)
                    row = ""
                row += char
        return [*rows, row] if row else rows

    def close(self) -> None:
        self._device.cleanup()
