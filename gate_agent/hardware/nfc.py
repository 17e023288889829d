"""NFC readers wired to the Pi: a PN532 (I2C, SPI or UART, through `adafruit-circuitpython-pn532`)
and an MFRC522/RC522 (SPI, through `mfrc522.py` here over `spidev`).

They poll for a card several times a second; `CardPresence` turns that into one scan per card
placed on the reader: a card left lying there is read once, and again only after it has been
away for `release_seconds`. UIDs are reported as hex, which `normalize_badge_uid` accepts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gate_agent.interfaces import Clock

if TYPE_CHECKING:
    from gate_agent.config import ReaderConfig

POLL_SECONDS = 0.1


class CardPresence:
    """Fed with what each poll saw (a UID or None), returns a UID only when a card arrives."""

    def __init__(self, *, release_seconds: float = 1.0, clock: Clock = time.monotonic) -> None:
        self._release, self._clock = release_seconds, clock
        self._present: str | None = None
        self._last_seen = 0.0

    def seen(self, uid: str | None) -> str | None:
        now = self._clock()
        if uid is None:
            if self._present is not None and now - self._last_seen >= self._release:
                self._present = None
            return None
        fresh = uid != self._present
        self._present, self._last_seen = uid, now
        return uid if fresh else None


class PollingReader:
    """A `BadgeReader` over a `poll(timeout) -> bytes | None` function."""

    def __init__(
        self,
        poll: Callable[[float], bytes | None],
        *,
        release_seconds: float = 1.0,
        clock: Clock = time.monotonic,
        close: Callable[[], None] | None = None,
    ) -> None:
        self._poll, self._clock, self._close = poll, clock, close
        self._presence = CardPresence(release_seconds=release_seconds, clock=clock)

    def read(self, timeout: float) -> str | None:
        deadline = self._clock() + timeout
        while True:
            raw = self._poll(min(POLL_SECONDS, max(0.0, deadline - self._clock())))
            uid = self._presence.seen(None if not raw else bytes(raw).hex().upper())
            if uid is not None or self._clock() >= deadline:
                return uid

    def close(self) -> None:
        if self._close is not None:
            self._close()


class Pn532Reader(PollingReader):
    """A PN532 on the given driver (`adafruit_pn532` `PN532_I2C`, `PN532_SPI` or `PN532_UART`)."""

    HEALTH_SECONDS = 10.0

    def __init__(self, pn532: Any, *, release_seconds: float = 1.0, clock: Clock = time.monotonic):
        pn532.SAM_configuration()
        self._pn532 = pn532
        self._next_health = clock() + self.HEALTH_SECONDS
        super().__init__(self._poll_card, release_seconds=release_seconds, clock=clock)

    def _poll_card(self, timeout: float) -> bytes | None:
        uid: bytes | None = self._pn532.read_passive_target(timeout=max(timeout, 0.01))
        if uid is None and self._clock() >= self._next_health:
            # The driver reads bus errors as "no card": ask the chip now and then that it is
            # there, so an unplugged reader is logged (RuntimeError) instead of silent.
            self._next_health = self._clock() + self.HEALTH_SECONDS
            _ = self._pn532.firmware_version
        return uid

    @classmethod
    def on_i2c(cls, i2c: Any, *, address: int = 0x24, **kwargs: Any) -> Pn532Reader:
        from adafruit_pn532.i2c import PN532_I2C

        return cls(PN532_I2C(i2c, address=address), **kwargs)

    @classmethod
    def on_spi(cls, spi: Any, chip_select: Any, **kwargs: Any) -> Pn532Reader:
        from adafruit_pn532.spi import PN532_SPI

        return cls(PN532_SPI(spi, chip_select), **kwargs)

    @classmethod
    def on_uart(cls, uart: Any, **kwargs: Any) -> Pn532Reader:
        from adafruit_pn532.uart import PN532_UART

        return cls(PN532_UART(uart), **kwargs)

    @classmethod
    def from_config(cls, config: ReaderConfig) -> Pn532Reader:
        release = config.release_seconds
        if config.interface == "uart":
            import serial

            assert config.device is not None, "parse_config requires a device for uart"
            uart = serial.Serial(config.device, baudrate=config.baudrate, timeout=0.1)
            return cls.on_uart(uart, release_seconds=release)
        import board
        import busio

        if config.interface == "spi":
            from digitalio import DigitalInOut

            spi = busio.SPI(board.SCK, board.MOSI, board.MISO)
            chip_select = DigitalInOut(getattr(board, f"D{config.cs_pin}"))
            return cls.on_spi(spi, chip_select, release_seconds=release)
        return cls.on_i2c(busio.I2C(board.SCL, board.SDA), release_seconds=release)


class Mfrc522Reader(PollingReader):
    """An MFRC522 on SPI: polls the chip (`mfrc522.Mfrc522.poll`)."""

    def __init__(
        self,
        chip: Any,
        *,
        release_seconds: float = 1.0,
        clock: Clock = time.monotonic,
        close: Callable[[], None] | None = None,
    ):
        super().__init__(chip.poll, release_seconds=release_seconds, clock=clock, close=close)

    @classmethod
    def from_config(cls, config: ReaderConfig) -> Mfrc522Reader:
        import spidev

        from .mfrc522 import Mfrc522

        spi = spidev.SpiDev()
        spi.open(config.spi_bus, config.spi_device)
        spi.max_speed_hz = 1_000_000
        return cls(Mfrc522(spi), release_seconds=config.release_seconds, close=spi.close)
