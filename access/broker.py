"""Mosquitto's password file and ACL, written from the registered gate devices.

Each device gets its own user and may touch only its own topics; the bridge user reads and writes
the whole gate tree. Passwords are stored as Mosquitto's PBKDF2-SHA512 hashes (`$7$`), never clear.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

from gate_agent.protocol import TOPIC_PREFIX, Topic

_PBKDF2_ITERATIONS = 101  # Mosquitto's own mosquitto_passwd default for `$7$`
DEVICE_WRITES = (Topic.REQUEST, Topic.STATUS, Topic.HEARTBEAT, Topic.EVENTS, Topic.ACK)
DEVICE_READS = (Topic.REPLY, Topic.COMMAND, Topic.ALLOWLIST)


@dataclass(frozen=True)
class BrokerUser:
    username: str
    password_hash: str
    device_id: str | None  # None for the bridge


def mosquitto_password_hash(password: str, *, salt: bytes | None = None) -> str:
    """The `$7$` line format `mosquitto_passwd` writes, so Mosquitto can check the password."""
    salt = salt or os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ITERATIONS)
    return f"$7${_PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def password_file(users: Iterable[BrokerUser]) -> str:
    return "".join(f"{user.username}:{user.password_hash}\n" for user in users)


def acl_file(users: Iterable[BrokerUser]) -> str:
    """Per-user topic rules: a device reaches its own subtree only, the bridge all gates."""
    blocks = []
    for user in users:
        if user.device_id is None:
            rules = [f"topic readwrite {TOPIC_PREFIX}/#"]
        else:
            base = f"{TOPIC_PREFIX}/{user.device_id}"
            rules = [f"topic write {base}/{kind.value}" for kind in DEVICE_WRITES]
            rules += [f"topic read {base}/{kind.value}" for kind in DEVICE_READS]
        blocks.append("\n".join([f"user {user.username}", *rules]))
    return "\n\n".join(blocks) + "\n"
