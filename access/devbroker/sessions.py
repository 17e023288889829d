"""What the development broker keeps per client id: subscriptions, and QoS 1 messages not yet
acknowledged or waiting for the client to come back."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from access.devbroker import packets

if TYPE_CHECKING:
    import asyncio

    from access.devbroker.connection import Connection

log = logging.getLogger("access.devbroker")
MAX_QUEUED = 1000  # QoS 1 messages kept per offline session; the oldest go first


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: bytes  # packed PUBLISH properties, as `packets.forwarded_properties` made them

    def packet(self, *, packet_id: int | None = None, dup: bool = False) -> bytes:
        return packets.publish(
            topic=self.topic,
            payload=self.payload,
            qos=self.qos,
            retain=self.retain,
            properties=self.properties,
            packet_id=packet_id,
            dup=dup,
        )


@dataclass(frozen=True)
class Subscription:
    topic_filter: str  # without the `$share/<group>/` prefix
    qos: int
    group: str | None = None
    no_local: bool = False
    retain_as_published: bool = False

    def delivered(self, message: Message, *, retained: bool = False) -> Message:
        """The copy this subscriber gets: QoS capped, retain flag as MQTT v5 says."""
        retain = retained or (message.retain and self.retain_as_published)
        return replace(message, qos=min(message.qos, self.qos), retain=retain)


class Session:
    """What the broker keeps for a client id: subscriptions and QoS 1 messages not yet acked."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.subscriptions: dict[str, Subscription] = {}
        self.expiry = 0
        self.connection: Connection | None = None
        self.inflight: dict[int, Message] = {}  # sent at QoS 1, waiting for the PUBACK
        self.queued: deque[Message] = deque()  # QoS 1 messages that arrived while offline
        self.expiry_timer: asyncio.TimerHandle | None = None
        self._last_id = 0

    def deliver(self, message: Message) -> None:
        if self.connection is None:
            if message.qos:  # QoS 0 is not kept for offline clients (Mosquitto's default too)
                if len(self.queued) == MAX_QUEUED:
                    self.queued.popleft()
                    log.warning("Session %s: queue full, oldest message dropped", self.client_id)
                self.queued.append(message)
            return
        packet_id = None
        if message.qos:
            packet_id = self._next_packet_id()
            self.inflight[packet_id] = message
        self.connection.send(message.packet(packet_id=packet_id))

    def resume(self) -> None:
        """After a reconnect: unacknowledged messages again (marked DUP), then the queue."""
        assert self.connection is not None
        for packet_id, message in self.inflight.items():
            self.connection.send(message.packet(packet_id=packet_id, dup=True))
        while self.queued and self.connection is not None:
            self.deliver(self.queued.popleft())

    def _next_packet_id(self) -> int:
        for _ in range(65535):
            self._last_id = self._last_id % 65535 + 1
            if self._last_id not in self.inflight:
                return self._last_id
        # 65535 messages unacknowledged: the oldest is given up, as a full queue would be.
        self._last_id = next(iter(self.inflight))
        del self.inflight[self._last_id]
        log.warning("Session %s: 65535 messages unacknowledged, oldest dropped", self.client_id)
        return self._last_id
