"""The MQTT topic tree: one subtree per device under a versioned prefix."""

from __future__ import annotations

from enum import StrEnum

from .fields import DEVICE_ID_RE, ProtocolError

TOPIC_PREFIX = "toolgate/v1/gates"
SHARED_GROUP = "toolgate-bridge"


class Topic(StrEnum):
    """The last level of a gate topic, named for what travels on it."""

    REQUEST = "request"  # agent -> site
    REPLY = "reply"  # site -> agent
    COMMAND = "command"  # site -> agent
    ALLOWLIST = "allowlist"  # site -> agent, retained
    STATUS = "status"  # agent, retained, last will
    HEARTBEAT = "heartbeat"  # agent -> site
    EVENTS = "events"  # agent -> site
    ACK = "ack"  # agent -> site: commands applied, allow-list held


# What the agent subscribes to, and what the site's bridges consume.
AGENT_SUBSCRIBES = (Topic.REPLY, Topic.COMMAND, Topic.ALLOWLIST)
BRIDGE_CONSUMES = (Topic.REQUEST, Topic.HEARTBEAT, Topic.EVENTS, Topic.STATUS, Topic.ACK)


def gate_topic(device_id: str, kind: Topic | str) -> str:
    """`toolgate/v1/gates/<device_id>/<kind>`; refuses ids that would break the topic tree."""
    if not DEVICE_ID_RE.match(device_id):
        raise ProtocolError(f"invalid device id {device_id!r}")
    return f"{TOPIC_PREFIX}/{device_id}/{Topic(kind).value}"


def parse_topic(topic: str) -> tuple[str, Topic]:
    """Split a gate topic into (device_id, kind), or raise `ProtocolError`."""
    prefix, _, rest = topic.rpartition("/")
    base, _, device_id = prefix.rpartition("/")
    if base != TOPIC_PREFIX or not DEVICE_ID_RE.match(device_id):
        raise ProtocolError(f"not a gate topic: {topic[:120]!r}")
    try:
        return device_id, Topic(rest)
    except ValueError:
        raise ProtocolError(f"unknown gate topic kind {rest[:40]!r}") from None


def shared_subscription(kind: Topic | str, group: str = SHARED_GROUP) -> str:
    """MQTT v5 shared subscription over every device, e.g.
    `$share/toolgate-bridge/toolgate/v1/gates/+/request`, so bridges split the load."""
    return f"$share/{group}/{TOPIC_PREFIX}/+/{Topic(kind).value}"


BRIDGE_REQUEST_SUBSCRIPTION = shared_subscription(Topic.REQUEST)
BRIDGE_SUBSCRIPTIONS = tuple(shared_subscription(kind) for kind in BRIDGE_CONSUMES)
