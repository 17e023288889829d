"""What the agent sends to the site: signed messages, and the event log upload.

Events are written to the journal first and marked sent only when the broker acknowledges the
upload (PUBACK), so a crash or a dropped connection at any point loses nothing.
"""

from __future__ import annotations

import functools
import queue
from collections.abc import Callable

from gate_agent.interfaces import Clock, Transport
from gate_agent.protocol import (
    MAX_EVENTS_PER_BATCH,
    EventBatch,
    GateEvent,
    Message,
    Topic,
    gate_topic,
    new_nonce,
    sign,
)

from .journal import EventJournal


class Uplink:
    def __init__(
        self,
        *,
        device_id: str,
        secret: str,
        transport: Transport,
        journal: EventJournal,
        clock: Clock,
    ) -> None:
        self._device_id, self._secret = device_id, secret
        self._transport, self._journal, self._clock = transport, journal, clock
        self._acks: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
        self._in_flight: set[str] = set()

    @property
    def connected(self) -> bool:
        return self._transport.connected

    def publish(
        self, kind: Topic, message: Message, on_ack: Callable[[], None] | None = None
    ) -> bool:
        """Sign and publish; False when offline or the client refused it."""
        if not self._transport.connected:
            return False
        payload = sign(message, self._secret).to_json()
        return self._transport.publish(gate_topic(self._device_id, kind), payload, on_ack=on_ack)

    def record(
        self,
        kind: str,
        reason: str,
        session_id: str | None,
        badge_uid: str | None,
        *,
        allowed: bool | None = None,
        grant_end: int | None = None,
        busy_seconds: int | None = None,
    ) -> None:
        """Durably log an event, then try to upload it."""
        event = GateEvent(
            id=new_nonce(),
            kind=kind,
            at=int(self._clock()),
            reason=reason,
            session_id=session_id,
            badge_uid=badge_uid,
            allowed=allowed,
            grant_end=grant_end,
            busy_seconds=busy_seconds,
        )
        self._journal.append(event)
        self.flush()

    def flush(self) -> None:
        """Upload every unsent event not already awaiting its acknowledgement."""
        self.drain_acks()
        waiting = [e for e in self._journal.unsent() if e.id not in self._in_flight]
        for start in range(0, len(waiting), MAX_EVENTS_PER_BATCH):
            chunk = tuple(waiting[start : start + MAX_EVENTS_PER_BATCH])
            ids = [event.id for event in chunk]
            batch = EventBatch(device_id=self._device_id, sent_at=int(self._clock()), events=chunk)
            if not self.publish(Topic.EVENTS, batch, functools.partial(self._acks.put, ids)):
                return
            self._in_flight.update(ids)

    def drain_acks(self) -> None:
        # Acks arrive on the MQTT network thread; they are applied here, on the agent's thread.
        while True:
            try:
                ids = self._acks.get_nowait()
            except queue.Empty:
                return
            self._journal.mark_sent(ids)
            self._in_flight.difference_update(ids)

    def reset(self) -> None:
        """After a (re)connect, unacknowledged uploads are sent again; the site dedupes by id."""
        self._in_flight.clear()

    def unsent(self) -> list[GateEvent]:
        return self._journal.unsent()
