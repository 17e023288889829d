"""The agent's append-only event log: session starts/ends and offline decisions.

Each line of `events.jsonl` is either `{"event": {...}}` or `{"sent": [ids]}` (written only after
the broker acknowledged the upload), each fsynced. Whatever is not marked sent is uploaded again
after a restart or reconnect; the site drops duplicates by event id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from gate_agent.protocol import EVENT_SESSION_END, EVENT_SESSION_START, GateEvent, ProtocolError

from .storage import append_durably

log = logging.getLogger(__name__)

# Once everything in the log is uploaded and it has grown past this, it is rotated at start-up.
ROTATE_BYTES = 1024 * 1024


class EventJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._unsent: dict[str, GateEvent] = {}
        self._open_sessions: dict[str, GateEvent] = {}
        if path.exists():
            self._load()
            self._rotate_if_done()

    def append(self, event: GateEvent) -> None:
        """Durably record `event`; it stays unsent until `mark_sent`."""
        append_durably(self.path, _line({"event": event.to_dict()}))
        self._remember(event)

    def mark_sent(self, ids: Iterable[str]) -> None:
        ids = [i for i in ids if i in self._unsent]
        if ids:
            append_durably(self.path, _line({"sent": ids}))
            for event_id in ids:
                del self._unsent[event_id]

    def unsent(self) -> list[GateEvent]:
        """Events not yet acknowledged by the broker, oldest first."""
        return list(self._unsent.values())

    def open_sessions(self) -> list[GateEvent]:
        """Session starts with no recorded end (the agent stopped while the relay was on)."""
        return list(self._open_sessions.values())

    def _remember(self, event: GateEvent) -> None:
        self._unsent[event.id] = event
        if event.kind == EVENT_SESSION_START and event.session_id:
            self._open_sessions[event.session_id] = event
        elif event.kind == EVENT_SESSION_END and event.session_id:
            self._open_sessions.pop(event.session_id, None)

    def _load(self) -> None:
        with self.path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    record = json.loads(raw)
                    if "event" in record:
                        self._remember(GateEvent.from_dict(record["event"]))
                    else:
                        for event_id in record["sent"]:
                            self._unsent.pop(event_id, None)
                except (ValueError, KeyError, TypeError, ProtocolError) as exc:
                    # Only a line torn by a power cut mid-write should ever land here.
                    log.error("%s line %d is unreadable and skipped: %s", self.path, number, exc)

    def _rotate_if_done(self) -> None:
        if self._unsent or self._open_sessions or self.path.stat().st_size < ROTATE_BYTES:
            return
        self.path.replace(self.path.with_suffix(".jsonl.1"))
        log.info("Rotated the uploaded event log %s", self.path)


def _line(record: dict[str, object]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"
