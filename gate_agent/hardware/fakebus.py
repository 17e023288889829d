"""Simulated buses with simulated chips on them: a PN532 NFC reader (on I2C, SPI or a UART) and
an ADS1115 ADC (I2C).

The buses have the methods the Adafruit drivers call (`busio.I2C`'s `try_lock`, `writeto`,
`readfrom_into`, ...; `busio.SPI`'s `configure`, `write`, `write_readinto`; a serial port's
`read`, `write`, `in_waiting`), so the real drivers run unchanged on top of them: the lowest seam
those libraries offer. The tests use them, and so does the simulator (a card "placed" on the PN532).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any, Protocol


class Chip(Protocol):
    def write(self, data: bytes) -> None: ...

    def read(self, count: int) -> bytes: ...


class FakeI2C:
    def __init__(self) -> None:
        self.chips: dict[int, Chip] = {}
        self._lock = threading.Lock()

    def attach(self, address: int, chip: Chip) -> None:
        self.chips[address] = chip

    def try_lock(self) -> bool:
        return self._lock.acquire(blocking=False)

    def unlock(self) -> None:
        self._lock.release()

    def scan(self) -> list[int]:
        return sorted(self.chips)

    def writeto(self, address: int, buffer: Any, *, start: int = 0, end: int | None = None) -> None:
        chip, data = self._chip(address), bytes(buffer[start:end])
        if data:  # an empty write is a probe: the address answers
            chip.write(data)

    def readfrom_into(
        self, address: int, buffer: Any, *, start: int = 0, end: int | None = None
    ) -> None:
        end = len(buffer) if end is None else end
        data = self._chip(address).read(end - start)
        buffer[start:end] = data

    def writeto_then_readfrom(
        self,
        address: int,
        out_buffer: Any,
        in_buffer: Any,
        *,
        out_start: int = 0,
        out_end: int | None = None,
        in_start: int = 0,
        in_end: int | None = None,
    ) -> None:
        self.writeto(address, out_buffer, start=out_start, end=out_end)
        self.readfrom_into(address, in_buffer, start=in_start, end=in_end)

    def deinit(self) -> None:
        """Nothing to release."""

    def _chip(self, address: int) -> Chip:
        try:
            return self.chips[address]
        except KeyError:
            raise OSError(121, "Remote I/O error (no device at this address)") from None


# -- PN532 -------------------------------------------------------------------------------------

_ACK = b"\x00\x00\xff\x00\xff\x00"
_HOST_TO_PN532, _PN532_TO_HOST = 0xD4, 0xD5
_GET_FIRMWARE_VERSION, _SAM_CONFIGURATION, _IN_LIST_PASSIVE_TARGET = 0x02, 0x14, 0x4A


def pn532_frame(data: bytes) -> bytes:
    """A PN532 information frame around `data` (TFI, command code, parameters)."""
    length = len(data)
    checksum = (~sum(data) + 1) & 0xFF
    return bytes([0x00, 0x00, 0xFF, length, (~length + 1) & 0xFF, *data, checksum, 0x00])


class FakePn532:
    """A PN532: firmware version, SAM configuration, and InListPassiveTarget answered with the
    card on it (`place()`), if any. `write()` takes a frame from the host; `answer()` hands the
    host the chip's next frame (the ACK, then the response), once it has one.

    `write` and `read` are also the chip on I2C (address 0x24, `FakeI2C`): every read starts with
    the status byte (0x01 ready) followed by the pending frame, as the chip does, and a frame is
    consumed by a read longer than the status byte. `FakeSPI` and `FakeUart` carry the same frames
    over the PN532's SPI and UART framing.
    """

    def __init__(self) -> None:
        self.card: bytes | None = None
        self.commands: list[int] = []
        self.broken = False
        self._out: list[bytes] = []
        self._listening = False
        self._lock = threading.Lock()

    def place(self, uid: bytes | None) -> None:
        """Put a card with `uid` on the reader, or take it away (None)."""
        with self._lock:
            self.card = uid

    def write(self, data: bytes) -> None:
        if self.broken:
            raise OSError(5, "Input/output error")
        start = data.index(b"\x00\xff") + 2
        length = data[start]
        body = data[start + 2 : start + 2 + length]
        if body[0] != _HOST_TO_PN532:
            raise ValueError("not a host-to-PN532 frame")
        command = body[1]
        with self._lock:
            self.commands.append(command)
            self._listening = False
            self._out = [_ACK]
            if command == _GET_FIRMWARE_VERSION:
                self._out.append(pn532_frame(bytes([_PN532_TO_HOST, command + 1, 0x32, 1, 6, 7])))
            elif command == _SAM_CONFIGURATION:
                self._out.append(pn532_frame(bytes([_PN532_TO_HOST, command + 1])))
            elif command == _IN_LIST_PASSIVE_TARGET:
                self._listening = True  # answers once a card is there

    def ready(self) -> bool:
        """The chip has a frame for the host."""
        return self._next() is not None

    def answer(self) -> bytes | None:
        """The chip's next frame for the host, taken; None while it has none."""
        frame = self._next()
        if frame is not None:
            with self._lock:
                self._out.pop(0)
        return frame

    def read(self, count: int) -> bytes:
        if self.broken:
            raise OSError(5, "Input/output error")
        frame = self.answer() if count > 1 else self._next()
        if frame is None:
            return bytes([0x00] * count)  # not ready
        return (bytes([0x01]) + frame + bytes(count))[:count]

    def _next(self) -> bytes | None:
        with self._lock:
            if not self._out and self._listening and self.card is not None:
                self._listening = False
                uid = self.card
                target = bytes([0x01, 0x00, 0x04, 0x08, len(uid), *uid])  # Tg, SENS_RES, SEL_RES
                reply = bytes([_PN532_TO_HOST, _IN_LIST_PASSIVE_TARGET + 1, 0x01, *target])
                self._out.append(pn532_frame(reply))
            return self._out[0] if self._out else None


def _reversed_bits(data: bytes) -> bytes:
    """The PN532 talks SPI least significant bit first; the Adafruit driver reverses each byte."""
    return bytes(int(f"{byte:08b}"[::-1], 2) for byte in data)


# The first byte of every SPI transfer to a PN532: what the host does in it.
_SPI_DATA_WRITE, _SPI_STATUS_READ, _SPI_DATA_READ = 0x01, 0x02, 0x03


class FakePin:
    """A `digitalio.DigitalInOut` output: the chip select line."""

    def __init__(self) -> None:
        self.value = True

    def switch_to_output(self, value: bool = False, **_: Any) -> None:
        self.value = value


class FakeSPI:
    """A `busio.SPI` bus with a PN532 on it, which listens while `chip_select` is low."""

    def __init__(self, chip: FakePn532, chip_select: FakePin) -> None:
        self._chip, self._select = chip, chip_select
        self._lock = threading.Lock()

    def try_lock(self) -> bool:
        return self._lock.acquire(blocking=False)

    def unlock(self) -> None:
        self._lock.release()

    def configure(self, **settings: Any) -> None:
        """Baud rate, polarity and phase: the fake reads every setting."""

    def write(self, buffer: Any, *, start: int = 0, end: int | None = None) -> None:
        data = self._transfer_in(buffer, start, end)
        if data[:1] == bytes([_SPI_DATA_WRITE]):
            self._chip.write(data[1:])
        # Anything else is the driver's wake-up byte.

    def write_readinto(
        self,
        out_buffer: Any,
        in_buffer: Any,
        *,
        out_start: int = 0,
        out_end: int | None = None,
        in_start: int = 0,
        in_end: int | None = None,
    ) -> None:
        data = self._transfer_in(out_buffer, out_start, out_end)
        answer = bytes(len(data))
        if data[:1] == bytes([_SPI_STATUS_READ]):
            answer = bytes([0x00, 0x01 if self._chip.ready() else 0x00])
        elif data[:1] == bytes([_SPI_DATA_READ]):
            frame = self._chip.answer() or b""
            answer = (bytes(1) + frame + bytes(len(data)))[: len(data)]
        end = len(in_buffer) if in_end is None else in_end
        in_buffer[in_start:end] = _reversed_bits(answer)[: end - in_start]

    def _transfer_in(self, buffer: Any, start: int, end: int | None) -> bytes:
        if self._select.value:
            raise AssertionError("SPI transfer with the PN532's chip select high")
        if self._chip.broken:
            return bytes(len(buffer[start:end]))  # a reader unplugged reads as zeros
        return _reversed_bits(bytes(buffer[start:end]))


class FakeUart:
    """A serial port (pyserial or `busio.UART`) with a PN532 on its other end."""

    def __init__(self, chip: FakePn532) -> None:
        self._chip = chip
        self._received = b""

    def write(self, data: Any) -> int:
        data = bytes(data)
        if not data.startswith(b"\x55"):  # the driver's wake-up: 0x55 0x55 then zeros
            self._chip.write(data)
        return len(data)

    @property
    def in_waiting(self) -> int:
        self._receive()
        return len(self._received)

    def read(self, count: int) -> bytes:
        self._receive()
        data, self._received = self._received[:count], self._received[count:]
        return data

    def reset_input_buffer(self) -> None:
        self._received = b""

    def _receive(self) -> None:
        while not self._chip.broken and (frame := self._chip.answer()) is not None:
            self._received += frame


# -- ADS1115 -----------------------------------------------------------------------------------

_FULL_SCALE = {2 / 3: 6.144, 1: 4.096, 2: 2.048, 4: 1.024, 8: 0.512, 16: 0.256}
_GAIN_BITS = {0x0000: 6.144, 0x0200: 4.096, 0x0400: 2.048, 0x0600: 1.024, 0x0800: 0.512}


class FakeAds1115:
    """An ADS1115 whose single-ended inputs read `signals[channel](n)` volts for the n-th
    conversion: a current transformer's AC output, say (`ct_signal`)."""

    def __init__(self, signals: dict[int, Callable[[int], float]] | None = None) -> None:
        self.signals = signals or {}
        self.conversions = 0
        self._pointer = 0
        self._config = 0x8583
        self._result = 0

    def write(self, data: bytes) -> None:
        self._pointer = data[0]
        if len(data) == 3 and self._pointer == 1:
            self._config = (data[1] << 8 | data[2]) & 0x7FFF
            if data[1] & 0x80:  # OS: start a single conversion
                self._convert()
            self._config |= 0x8000  # done at once

    def read(self, count: int) -> bytes:
        value = self._config if self._pointer == 1 else self._result
        return bytes([(value >> 8) & 0xFF, value & 0xFF])[:count]

    def _convert(self) -> None:
        mux = (self._config >> 12) & 0x07
        channel = mux - 4 if mux >= 4 else None
        signal = self.signals.get(channel) if channel is not None else None
        volts = 0.0 if signal is None else signal(self.conversions)
        self.conversions += 1
        full_scale = _GAIN_BITS.get(self._config & 0x0E00, 0.256)
        raw = max(-32768, min(32767, int(volts / full_scale * 32768)))
        self._result = raw & 0xFFFF


def ct_signal(
    amps: Callable[[], float],
    *,
    amps_per_volt: float = 30.0,
    bias_volts: float = 1.65,
    samples_per_cycle: float = 860 / 50,
) -> Callable[[int], float]:
    """The output of a voltage-output current transformer on a biased input: a sine of
    `amps() / amps_per_volt` volts RMS around `bias_volts`, sampled `samples_per_cycle` a cycle."""

    def volts(n: int) -> float:
        peak = amps() / amps_per_volt * math.sqrt(2)
        return bias_volts + peak * math.sin(2 * math.pi * n / samples_per_cycle)

    return volts
