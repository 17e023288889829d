"""MFRC522 (RC522 boards) over SPI: enough of the chip to read ISO 14443A card UIDs.

Talks to any object with `spidev.SpiDev`'s `xfer2(list[int]) -> list[int]`: the chip's register
protocol (address byte `(reg << 1) & 0x7E`, | 0x80 to read), then the card commands through the
chip's Transceive: REQA, anticollision and select per cascade level (4-, 7- and 10-byte UIDs),
and HLTA, so a card left on the reader stays quiet until it is taken away. The driver is ours
(the PyPI MFRC522 packages need RPi.GPIO and print to stdout); `FakeMfrc522` below speaks the
same register protocol, with a card state machine, for the tests and the simulator.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

# Registers
COMMAND, COM_IRQ, ERROR, FIFO_DATA, FIFO_LEVEL, CONTROL, BIT_FRAMING, COLL = (
    0x01,
    0x04,
    0x06,
    0x09,
    0x0A,
    0x0C,
    0x0D,
    0x0E,
)
MODE, TX_CONTROL, TX_ASK, T_MODE, T_PRESCALER, T_RELOAD_H, T_RELOAD_L, VERSION = (
    0x11,
    0x14,
    0x15,
    0x2A,
    0x2B,
    0x2C,
    0x2D,
    0x37,
)
# Chip commands
IDLE, TRANSCEIVE, SOFT_RESET = 0x00, 0x0C, 0x0F
# Card commands
REQA, HLTA = 0x26, 0x50
CASCADE_LEVELS = (0x93, 0x95, 0x97)
CASCADE_TAG = 0x88
KNOWN_VERSIONS = frozenset({0x88, 0x90, 0x91, 0x92, 0x12, 0xB2})  # MFRC522 v0-v2, FM17522 clones


class Spi(Protocol):
    def xfer2(self, data: list[int]) -> list[int]: ...


class Mfrc522Error(OSError):
    """The chip is not there or does not answer as an MFRC522."""


def crc_a(data: bytes) -> bytes:
    """ISO 14443-3 CRC_A, low byte first."""
    crc = 0x6363
    for byte in data:
        byte ^= crc & 0xFF
        byte ^= (byte << 4) & 0xFF
        crc = (crc >> 8) ^ (byte << 8) ^ (byte << 3) ^ (byte >> 4)
    return bytes([crc & 0xFF, (crc >> 8) & 0xFF])


class Mfrc522:
    def __init__(self, spi: Spi, *, timeout: float = 0.025) -> None:
        self._spi, self._timeout = spi, timeout
        self._write(COMMAND, SOFT_RESET)
        version = self._read(VERSION)
        if version not in KNOWN_VERSIONS:
            raise Mfrc522Error(f"no MFRC522 on this SPI device (version register {version:#04x})")
        # Timer: about 25 ms per transceive; 100% ASK; CRC preset 0x6363; antenna on.
        for register, value in (
            (T_MODE, 0x8D),
            (T_PRESCALER, 0x3E),
            (T_RELOAD_H, 0x00),
            (T_RELOAD_L, 0x1E),
            (TX_ASK, 0x40),
            (MODE, 0x3D),
        ):
            self._write(register, value)
        self._write(TX_CONTROL, self._read(TX_CONTROL) | 0x03)

    def poll(self, timeout: float = 0.0) -> bytes | None:
        """The UID of a card that answers now (then halted), or None. `timeout` is unused: one
        poll is one REQA, a few milliseconds."""
        if self._transceive(bytes([REQA]), last_bits=7) is None:
            return None
        uid = b""
        for level in CASCADE_LEVELS:
            answer = self._transceive(bytes([level, 0x20]))
            if answer is None or len(answer) != 5 or _bcc(answer[:4]) != answer[4]:
                return None  # no answer, a collision, or noise
            frame = bytes([level, 0x70, *answer])
            sak = self._transceive(frame + crc_a(frame))
            if sak is None or len(sak) != 3:
                return None
            if answer[0] == CASCADE_TAG:
                uid += answer[1:4]
                continue
            uid += answer[:4]
            halt = bytes([HLTA, 0x00])
            self._transceive(halt + crc_a(halt))  # no answer is the answer
            return uid
        return None

    def _transceive(self, data: bytes, *, last_bits: int = 0) -> bytes | None:
        self._write(COMMAND, IDLE)
        self._write(COM_IRQ, 0x7F)
        self._write(FIFO_LEVEL, 0x80)
        for byte in data:
            self._write(FIFO_DATA, byte)
        self._write(COMMAND, TRANSCEIVE)
        self._write(BIT_FRAMING, 0x80 | last_bits)  # StartSend
        deadline = time.monotonic() + self._timeout
        while True:
            irq = self._read(COM_IRQ)
            if irq & 0x30:  # RxIRq or IdleIRq
                break
            if irq & 0x01 or time.monotonic() > deadline:  # TimerIRq: no card answered
                self._write(BIT_FRAMING, 0x00)
                return None
        self._write(BIT_FRAMING, 0x00)
        if self._read(ERROR) & 0x1B:  # BufferOvfl, CollErr, ParityErr, ProtocolErr
            return None
        count = self._read(FIFO_LEVEL)
        return bytes(self._read(FIFO_DATA) for _ in range(count)) if count else None

    def _write(self, register: int, value: int) -> None:
        self._spi.xfer2([(register << 1) & 0x7E, value & 0xFF])

    def _read(self, register: int) -> int:
        return self._spi.xfer2([((register << 1) & 0x7E) | 0x80, 0])[1]


def _bcc(part: bytes) -> int:
    return part[0] ^ part[1] ^ part[2] ^ part[3]


class FakeMfrc522:
    """An MFRC522 behind `xfer2`, with one card that `place()` puts in its field.

    The card follows ISO 14443-3: IDLE answers REQA; READY answers anticollision and select per
    cascade level; a selected card halted with HLTA answers nothing until it leaves the field.
    """

    def __init__(self, *, version: int = 0x92) -> None:
        self.registers = [0] * 64
        self.registers[VERSION] = version
        self.fifo: list[int] = []
        self.card: bytes | None = None
        self.frames: list[bytes] = []  # what the reader sent to the card
        self._state = "idle"
        self._level = 0

    def place(self, uid: bytes | None) -> None:
        """A card with `uid` enters the field (reset to IDLE), or the card leaves (None)."""
        self.card, self._state, self._level = uid, "idle", 0

    def xfer2(self, data: list[int]) -> list[int]:
        address, value = data[0], data[1]
        register = (address >> 1) & 0x3F
        if address & 0x80:
            return [0, self._read(register)]
        self._write(register, value)
        return [0, 0]

    def _read(self, register: int) -> int:
        if register == FIFO_DATA:
            return self.fifo.pop(0) if self.fifo else 0
        if register == FIFO_LEVEL:
            return len(self.fifo)
        return self.registers[register]

    def _write(self, register: int, value: int) -> None:
        if register == FIFO_DATA:
            self.fifo.append(value)
        elif register == FIFO_LEVEL and value & 0x80:
            self.fifo.clear()
        elif register == COM_IRQ and not value & 0x80:
            self.registers[COM_IRQ] &= ~value & 0x7F  # writing 1s clears those bits
        elif register == BIT_FRAMING and value & 0x80 and self.registers[COMMAND] == TRANSCEIVE:
            self.registers[BIT_FRAMING] = value & 0x7F
            frame, self.fifo = bytes(self.fifo), []
            self.frames.append(frame)
            answer = self._card_answer(frame, value & 0x07)
            if answer is None:
                self.registers[COM_IRQ] |= 0x01  # timer: nothing came back
            else:
                self.fifo = list(answer)
                self.registers[COM_IRQ] |= 0x30
        else:
            self.registers[register] = value

    def _parts(self) -> list[bytes]:
        uid = self.card or b""
        if len(uid) == 4:
            return [uid]
        if len(uid) == 7:
            return [bytes([CASCADE_TAG, *uid[:3]]), uid[3:]]
        return [bytes([CASCADE_TAG, *uid[:3]]), bytes([CASCADE_TAG, *uid[3:6]]), uid[6:]]

    def _card_answer(self, frame: bytes, last_bits: int) -> Any:
        if self.card is None or not frame:
            return None
        if frame == bytes([REQA]) and last_bits == 7:
            if self._state != "idle":
                return None
            self._state, self._level = "ready", 0
            return bytes([0x44 if len(self.card) > 4 else 0x04, 0x00])
        if frame[:2] == bytes([HLTA, 0x00]):
            self._state = "halt"
            return None
        if self._state != "ready" or frame[0] not in CASCADE_LEVELS:
            self._state = "idle" if self._state != "halt" else "halt"
            return None
        level, parts = CASCADE_LEVELS.index(frame[0]), self._parts()
        if level != self._level or level >= len(parts):
            return None
        part = parts[level]
        if frame[1] == 0x20:
            return part + bytes([_bcc(part)])
        if frame[1] == 0x70 and frame[2:7] == part + bytes([_bcc(part)]):
            if crc_a(frame[:7]) != frame[7:9]:
                return None
            self._level += 1
            last = self._level == len(parts)
            sak = bytes([0x08 if last else 0x04])
            return sak + crc_a(sak)
        return None
