"""HMAC-SHA256 signatures over a canonical encoding, and device secrets.

The canonical form is the message's JSON object without `sig`, keys sorted, no whitespace, ASCII
only (non-ASCII as \\uXXXX escapes). It includes `v`, `type` and `device_id`, so a signature made
for one device or one message type never verifies as another.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
from typing import TypeVar

from gate_agent.badges import badge_hash

from .fields import ProtocolError
from .messages import Message

M = TypeVar("M", bound=Message)
# Separates the key used to hash badge UIDs in the allow-list from the one used to sign messages.
_BADGE_HASH_CONTEXT = b"toolgate/v1 allow-list badge hash"


class SignatureError(ProtocolError):
    """The message is well formed but its signature is missing or wrong."""


def new_device_secret() -> str:
    """A fresh per-device secret (256 bits, URL-safe text) for the site and the agent to share."""
    return secrets.token_urlsafe(32)


def canonical_bytes(message: Message) -> bytes:
    """The exact bytes that are signed: the message minus `sig`, sorted keys, no whitespace."""
    body = message.to_dict()
    body.pop("sig", None)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def signature(message: Message, secret: str) -> str:
    """Hex HMAC-SHA256 of the canonical form under the device secret."""
    _require_secret(secret)
    return hmac.new(secret.encode(), canonical_bytes(message), hashlib.sha256).hexdigest()


def sign(message: M, secret: str) -> M:
    """Return a copy of `message` carrying its signature."""
    if not message.SIGNED:
        raise TypeError(f"{message.TYPE} messages are not signed")
    return dataclasses.replace(message, sig=signature(message, secret))  # type: ignore[call-arg]


def verify(message: Message, secret: str) -> bool:
    """True if the message's signature is right for `secret`; compared in constant time."""
    if not message.SIGNED:
        return False
    return hmac.compare_digest(getattr(message, "sig", ""), signature(message, secret))


def parse_signed(cls: type[M], payload: bytes | str, *, device_id: str, secret: str) -> M:
    """Parse an untrusted payload for `device_id` and check its signature.

    Raises `ProtocolError` (or its subclass `SignatureError`) for anything but an authentic
    message of type `cls` addressed to that device. Freshness and replay are the caller's job.
    """
    message = cls.from_json(payload)
    if message.device_id != device_id:
        raise ProtocolError(f"message is for device {message.device_id!r}, not {device_id!r}")
    if not verify(message, secret):
        raise SignatureError(f"{cls.TYPE} message has a bad signature")
    return message


def allowlist_badge_hash(uid: str, secret: str) -> str:
    """The keyed hash of a badge UID as it appears in this device's allow-list."""
    _require_secret(secret)
    key = hmac.new(secret.encode(), _BADGE_HASH_CONTEXT, hashlib.sha256).digest()
    return badge_hash(uid, key=key)


def _require_secret(secret: str) -> None:
    # An empty or short secret would make every signature forgeable: refuse rather than sign.
    if not isinstance(secret, str) or len(secret) < 16:
        raise ValueError("a device secret of at least 16 characters is required")
