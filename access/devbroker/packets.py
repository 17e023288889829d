"""MQTT v5 packets for the development broker: framing, reading fields, building replies.

Properties are read and written by paho-mqtt's own `Properties` code, the same our clients use.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import (
    MalformedPacket,
    MQTTException,
    Properties,
    VariableByteIntegers,
    readBytes,
    readUTF,
    writeInt16,
    writeUTF,
)

# Far above any gate message (allow-lists, the largest, are kB); beyond it, a peer is confused.
MAX_PACKET_BYTES = 16 << 20
# Packets whose fixed-header flags the protocol fixes (MQTT v5, 2.1.3); PUBLISH carries its own.
_REQUIRED_FLAGS = {PacketTypes.SUBSCRIBE: 0b0010, PacketTypes.UNSUBSCRIBE: 0b0010}
# What paho's field readers raise on truncated or invalid input.
_DECODE_ERRORS = (MalformedPacket, MQTTException, KeyError, IndexError, struct.error, ValueError)
# Properties a PUBLISH (or a will) carries on to subscribers.
_FORWARDED = (
    "PayloadFormatIndicator",
    "MessageExpiryInterval",
    "ContentType",
    "ResponseTopic",
    "CorrelationData",
    "UserProperty",
)


class MalformedPacketError(Exception):
    """The peer sent something that is not a valid MQTT v5 packet: close its connection."""


@dataclass(frozen=True)
class Packet:
    kind: int  # a PacketTypes constant
    flags: int
    body: bytes


async def read_packet(reader: asyncio.StreamReader) -> Packet:
    """One packet off the stream; `asyncio.IncompleteReadError` when the peer hangs up."""
    first = (await reader.readexactly(1))[0]
    length_bytes = b""
    while True:
        length_bytes += await reader.readexactly(1)
        if length_bytes[-1] < 0x80:
            break
        if len(length_bytes) == 4:
            raise MalformedPacketError("remaining length longer than four bytes")
    length, _ = VariableByteIntegers.decode(length_bytes)
    if length > MAX_PACKET_BYTES:
        raise MalformedPacketError(f"packet of {length} bytes is over the limit")
    kind, flags = first >> 4, first & 0x0F
    if kind == PacketTypes.PUBLISH:
        if (flags >> 1) & 0b11 == 0b11:
            raise MalformedPacketError("PUBLISH with QoS 3")
    elif flags != _REQUIRED_FLAGS.get(kind, 0):
        raise MalformedPacketError(f"packet type {kind} with flags {flags:#06b}")
    return Packet(kind, flags, await reader.readexactly(length))


class Fields:
    """Reads a packet body front to back; any short or invalid field is a `MalformedPacketError`."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.pos = 0

    @property
    def left(self) -> int:
        return len(self.body) - self.pos

    def _take(self, read, *args):
        try:
            value, used = read(self.body[self.pos :], *args)
        except _DECODE_ERRORS as error:
            raise MalformedPacketError(str(error) or type(error).__name__) from None
        if used > self.left:
            raise MalformedPacketError("field runs past the end of the packet")
        self.pos += used
        return value

    def byte(self) -> int:
        return self._take(lambda buf: (buf[0], 1))

    def u16(self) -> int:
        return self._take(lambda buf: (struct.unpack("!H", buf[:2])[0], 2))

    def text(self) -> str:
        return self._take(readUTF, self.left)

    def binary(self) -> bytes:
        return bytes(self._take(readBytes, self.left))

    def properties(self, packet_type: int) -> Properties:
        return self._take(Properties(packet_type).unpack)

    def rest(self) -> bytes:
        data, self.pos = self.body[self.pos :], len(self.body)
        return data

    def end(self) -> None:
        if self.left:
            raise MalformedPacketError(f"{self.left} unexpected byte(s) at the end of a packet")


def forwarded_properties(properties: Properties) -> bytes:
    """The packed PUBLISH properties that travel with a message (from a PUBLISH or a will)."""
    out = Properties(PacketTypes.PUBLISH)
    for name in _FORWARDED:
        if hasattr(properties, name):
            setattr(out, name, getattr(properties, name))
    return out.pack()


def _packet(kind: int, body: bytes, flags: int = 0) -> bytes:
    return bytes([kind << 4 | flags]) + VariableByteIntegers.encode(len(body)) + body


def connack(*, session_present: bool, reason: int, properties: Properties | None = None) -> bytes:
    props = properties.pack() if properties is not None else b"\x00"
    return _packet(PacketTypes.CONNACK, bytes([int(session_present), reason]) + props)


def publish(
    *,
    topic: str,
    payload: bytes,
    qos: int,
    retain: bool,
    properties: bytes,
    packet_id: int | None = None,
    dup: bool = False,
) -> bytes:
    body = writeUTF(topic)
    if qos:
        body += writeInt16(packet_id)
    flags = dup << 3 | qos << 1 | int(retain)
    return _packet(PacketTypes.PUBLISH, bytes(body) + properties + payload, flags)


def ack(kind: int, packet_id: int, reasons: list[int] | None = None) -> bytes:
    """PUBACK (success: the short form), SUBACK or UNSUBACK (one reason code per filter)."""
    body = bytes(writeInt16(packet_id))
    if reasons is not None:
        body += b"\x00" + bytes(reasons)
    return _packet(kind, body)


def disconnect(reason: int) -> bytes:
    return _packet(PacketTypes.DISCONNECT, bytes([reason, 0]))


PINGRESP = _packet(PacketTypes.PINGRESP, b"")
# The MQTT 3.1.1 refusal "unacceptable protocol version", which older clients understand.
CONNACK_V311_BAD_VERSION = bytes([PacketTypes.CONNACK << 4, 2, 0, 1])
