"""Mosquitto's users and ACL, written from the registered gate devices, and how bridges log in.

Each device gets its own user and may touch only its own topics; each bridge connection has a user
of its own that reads and writes the whole gate tree. The production broker makes every client id
its username (deploy/mosquitto/toolgate.conf), so a user can only ever take over its own session.
Passwords are stored as Mosquitto's PBKDF2-SHA512 hashes (`$7$`), never clear.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.crypto import salted_hmac

from access.mqtt import BrokerSettings
from gate_agent.protocol import TOPIC_PREFIX, Topic

_PBKDF2_ITERATIONS = 101  # Mosquitto's own mosquitto_passwd default for `$7$`
DEVICE_WRITES = (Topic.REQUEST, Topic.STATUS, Topic.HEARTBEAT, Topic.EVENTS, Topic.ACK)
DEVICE_READS = (Topic.REPLY, Topic.COMMAND, Topic.ALLOWLIST)
# A bridge's durable connection (event uploads, statuses) logs in as `<bridge>-events`.
EVENTS_SUFFIX = "-events"
# Bridge usernames are client ids too: no `+`, `#` or `/` (Mosquitto refuses those), and not in
# the `gate-<device id>` names of the gates.
# nor in the `location-<slug>` names of the location brokers' uplinks.
BRIDGE_USERNAME_RE = re.compile(r"^(?!gate-|location-)[A-Za-z0-9][A-Za-z0-9_-]{0,56}$")


@dataclass(frozen=True)
class BrokerUser:
    username: str
    password_hash: str
    device_id: str | None  # None for a bridge or a location's uplink
    # A location broker's uplink user (access.location_brokers): the gates it carries.
    devices: tuple[str, ...] | None = None


def bridge_users(usernames: Iterable[str], password: str) -> list[BrokerUser]:
    """Two users per bridge, `<name>` (live) and `<name>-events` (durable), with one password."""
    users = []
    for username in usernames:
        if not BRIDGE_USERNAME_RE.match(username):
            raise ValueError(
                f"bridge username {username!r}: letters, digits, '-' and '_' (at most 57), "
                "not starting with 'gate-' or 'location-'"
            )
        for name in (username, username + EVENTS_SUFFIX):
            users.append(BrokerUser(name, mosquitto_password_hash(password), None))
    return users


def bridge_login(broker: BrokerSettings, client_id: str) -> BrokerSettings:
    """The credentials one bridge connection logs in with: its client id is its username.

    The production broker replaces each client id with the username, so the live and the durable
    connection of a bridge need users of their own, or each would kick the other off. Without
    credentials (a development broker) the settings are used as they are.
    """
    if broker.username is None:
        return broker
    return dataclasses.replace(broker, username=client_id)


def bridge_share_group() -> str:
    """The name of the bridges' shared subscription group, a secret derived from SECRET_KEY.

    Mosquitto's ACL file never checks subscriptions, only deliveries: a gate that knew the group
    could join it, get its turn at other gates' badge requests and have them dropped by its read
    rules. Every bridge of a site has the same SECRET_KEY, so they all land in one group.
    """
    digest = salted_hmac("access.broker.bridge_share_group", "v1", algorithm="sha256")
    return f"toolgate-{digest.hexdigest()[:32]}"


def mosquitto_password_hash(password: str, *, salt: bytes | None = None) -> str:
    """The `$7$` line format `mosquitto_passwd` writes, so Mosquitto can check the password."""
    salt = salt or os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ITERATIONS)
    return f"$7${_PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def password_file(users: Iterable[BrokerUser]) -> str:
    return "".join(f"{user.username}:{user.password_hash}\n" for user in users)


def acl_file(users: Iterable[BrokerUser]) -> str:
    """Per-user topic rules: a device reaches its own subtree only, a location's uplink its
    gates' subtrees, a bridge all gates."""
    blocks = []
    for user in users:
        if user.devices is not None:
            rules = [rule for device_id in user.devices for rule in device_rules(device_id)]
        elif user.device_id is None:
            rules = [f"topic readwrite {TOPIC_PREFIX}/#"]
        else:
            rules = device_rules(user.device_id)
        blocks.append("\n".join([f"user {user.username}", *rules]))
    return "\n\n".join(blocks) + "\n"


def device_rules(device_id: str) -> list[str]:
    """What one gate may do: write what it sends, read what the site sends it, nothing else."""
    base = f"{TOPIC_PREFIX}/{device_id}"
    rules = [f"topic write {base}/{kind.value}" for kind in DEVICE_WRITES]
    return rules + [f"topic read {base}/{kind.value}" for kind in DEVICE_READS]
