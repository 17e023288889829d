"""Checks every message from the site: signature, addressee, freshness and replay.

`Rejected` means the message failed a check (the agent switches the relay off); `Ignored` means it
is authentic but of no use now (an older allow-list, a late reply) and changes nothing; `Duplicate`
(an `Ignored`) means it was applied already and arrived again, as MQTT's at-least-once delivery and
the site's re-sending until acknowledged allow.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import TypeVar

from gate_agent.interfaces import Clock
from gate_agent.protocol import (
    CLOCK_SKEW,
    MAX_MESSAGE_TTL,
    AccessReply,
    Command,
    Message,
    ProtocolError,
    parse_signed,
)

from .storage import atomic_write

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Message)


class Rejected(Exception):
    """The message failed a check: forged, malformed, for another device, stale or replayed."""


class Ignored(Exception):
    """The message is authentic but changes nothing."""


class Duplicate(Ignored):
    """An authentic, fresh message whose id was applied already: a no-op, acknowledged again."""

    def __init__(self, message: AccessReply | Command) -> None:
        super().__init__(f"{_message_id(message)} already applied")
        self.message = message


class ReplayCache:
    """Ids of replies and commands already acted on, with a digest of the exact payload, kept (on
    disk) until they would be stale.

    If the file cannot be read, nobody knows which ids were used, so every reply and command is
    refused until anything issued before the restart has expired.
    """

    def __init__(self, path: Path, clock: Clock) -> None:
        self.path, self._clock = path, clock
        self._seen: dict[str, tuple[float, str]] = {}
        self._blind_until = 0.0
        if path.exists():
            try:
                data = json.loads(path.read_bytes())
                self._seen = {str(k): (float(v[0]), str(v[1])) for k, v in data.items()}
            except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
                log.error(
                    "Replay cache %s unreadable (%s); refusing messages for a while", path, exc
                )
                self._blind_until = clock() + MAX_MESSAGE_TTL + 2 * CLOCK_SKEW

    def digest_of(self, message_id: str) -> str | None:
        """The payload digest `message_id` was applied with, or None if it never was."""
        if self._clock() < self._blind_until:
            raise Rejected("replay cache was lost; refusing messages until old ones expire")
        seen = self._seen.get(message_id)
        return None if seen is None else seen[1]

    def add(self, message_id: str, expires_at: float, digest: str) -> None:
        """Remember an id until the message could no longer pass the freshness check."""
        now = self._clock()
        self._seen = {k: v for k, v in self._seen.items() if v[0] >= now}
        self._seen[message_id] = (expires_at + CLOCK_SKEW, digest)
        atomic_write(self.path, json.dumps(self._seen).encode())


class MessageGuard:
    def __init__(self, *, device_id: str, secret: str, replay: ReplayCache, clock: Clock) -> None:
        self._device_id, self._secret = device_id, secret
        self._replay, self._clock = replay, clock

    def open(self, cls: type[M], payload: bytes) -> M:
        """Parse and authenticate a payload addressed to this device, or raise `Rejected`."""
        try:
            return parse_signed(cls, payload, device_id=self._device_id, secret=self._secret)
        except ProtocolError as exc:
            raise Rejected(str(exc)) from None

    def open_once(self, cls: type[M], payload: bytes) -> M:
        """Like `open`, for replies and commands: also fresh and never applied before.

        Raises `Duplicate` for the same reply again (byte for byte) and for a command whose id
        was applied: the site re-signs a command it re-sends, and applying it once is the point.
        Any other message reusing an applied id is `Rejected`.
        """
        message = self.open(cls, payload)
        if not isinstance(message, AccessReply | Command):
            raise TypeError(f"{cls.TYPE} messages carry no expiry")
        now = self._clock()
        if message.expires_at < message.issued_at:
            raise Rejected("expires before it was issued")
        if message.expires_at - message.issued_at > MAX_MESSAGE_TTL:
            raise Rejected(f"lifetime over {MAX_MESSAGE_TTL}s")
        if message.issued_at > now + CLOCK_SKEW:
            raise Rejected("issued in the future (is the clock right?)")
        if now > message.expires_at + CLOCK_SKEW:
            raise Rejected("expired")
        applied = self._replay.digest_of(_message_id(message))
        if applied is not None:
            if isinstance(message, Command) or applied == _digest(payload):
                raise Duplicate(message)
            raise Rejected(f"replayed message {_message_id(message)}")
        return message

    def consume(self, message: AccessReply | Command, payload: bytes) -> None:
        """Mark a reply or command as applied: from now on it is a `Duplicate`, and anything
        else reusing its id is refused."""
        self._replay.add(_message_id(message), message.expires_at, _digest(payload))


def _digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _message_id(message: AccessReply | Command) -> str:
    if isinstance(message, AccessReply):
        return f"reply:{message.nonce}"
    return f"command:{message.command_id}"
