"""Each location's own Mosquitto, bridged to the central broker: its files and its user at the centre.

A location's gates connect to the broker in their own building. That broker forwards their topics
to the central broker (where the site's bridges run) over one Mosquitto `connection` bridge, TLS,
logged in as the location's own user, whom the central ACL lets touch only that location's gates.
When the uplink drops, the gates still reach their broker: a badge request goes unanswered and the
gate decides from its allow-list; its event uploads are acknowledged by the local broker and queued
there for the centre until the uplink is back (docs/locations.md, "Brokers at each location").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.crypto import salted_hmac

from access.broker import BrokerUser, mosquitto_password_hash
from gate_agent.protocol import TOPIC_PREFIX, Topic

USERNAME_PREFIX = "location-"
# What crosses the uplink, and at which QoS. A badge request, its reply and a heartbeat are worth
# something only now: at QoS 0 neither broker queues them while the uplink is down, so the centre
# never answers a scan the gate has already decided offline. Event uploads, acknowledgements and
# statuses go at QoS 1: the local broker queues them for the centre, and the centre queues
# commands and allow-lists (retained) for the location, across an outage.
UPLINK_OUT = (
    (Topic.REQUEST, 0),
    (Topic.HEARTBEAT, 0),
    (Topic.STATUS, 1),
    (Topic.EVENTS, 1),
    (Topic.ACK, 1),
)
UPLINK_IN = ((Topic.REPLY, 0), (Topic.COMMAND, 1), (Topic.ALLOWLIST, 1))
# Queued uploads a location broker keeps for the centre during an outage (Mosquitto's default,
# 1000, would drop a busy location's events after an hour or two); written to disk every minute.
LOCATION_MAX_QUEUED = 100_000
LOCATION_AUTOSAVE_SECONDS = 60
_ADDRESS_RE = re.compile(r"^[A-Za-z0-9.-]+:\d{1,5}$")


def location_username(slug: str) -> str:
    """The location broker's user at the centre; never a gate's (`gate-...`) or a bridge's name."""
    return f"{USERNAME_PREFIX}{slug}"


def location_password(slug: str) -> str:
    """The location's uplink password, derived from SECRET_KEY and the slug.

    Derived rather than stored: the centre writes its hash and the location's file writes it in
    clear from the same key, so the two can never disagree, and one location's password says
    nothing about another's. Changing SECRET_KEY changes every location's password: rewrite all
    the files then.
    """
    return salted_hmac("access.location_brokers.location_password", slug).hexdigest()


@dataclass(frozen=True)
class LocationGates:
    """A location that runs its own broker, and the device ids of its enabled gates."""

    slug: str
    device_ids: tuple[str, ...]


def location_user(location: LocationGates) -> BrokerUser:
    """At the centre, a location's user reaches its own gates' topics, as each gate would."""
    return BrokerUser(
        location_username(location.slug),
        mosquitto_password_hash(location_password(location.slug)),
        None,
        devices=location.device_ids,
    )


def uplink_config(
    *, slug: str, central_address: str, ca_file: str, restart_timeout: str = "2 30"
) -> str:
    """The location broker's bridge to the centre: Mosquitto's own `connection` section.

    It goes last in the broker's configuration (every option after `connection` belongs to the
    bridge): as `/etc/mosquitto/conf.d/zz-toolgate-uplink.conf`.
    """
    if not _ADDRESS_RE.match(central_address):
        raise ValueError(
            f"central address {central_address!r}: host:port, e.g. mqtt.example.org:8883"
        )
    username = location_username(slug)
    topics = [f"topic {TOPIC_PREFIX}/+/{kind.value} out {qos}" for kind, qos in UPLINK_OUT]
    topics += [f"topic {TOPIC_PREFIX}/+/{kind.value} in {qos}" for kind, qos in UPLINK_IN]
    return "\n".join(
        [
            f"# Location {slug}'s uplink to the central broker: written by",
            f"# `manage.py gate_broker_config --location {slug}`; keep this file private (0600).",
            f"max_queued_messages {LOCATION_MAX_QUEUED}",
            f"autosave_interval {LOCATION_AUTOSAVE_SECONDS}",
            "",
            f"connection toolgate-uplink-{slug}",
            f"address {central_address}",
            # MQTT 3.1.1: with `cleansession false` the centre keeps the session across an outage
            # (a 5.0 bridge in Mosquitto 2.0 asks for no session expiry, so it would be dropped).
            "bridge_protocol_version mqttv311",
            # The centre makes every client id its username (use_username_as_clientid).
            f"remote_clientid {username}",
            f"remote_username {username}",
            f"remote_password {location_password(slug)}",
            f"bridge_cafile {ca_file}",
            "bridge_insecure false",
            # A persistent session at the centre: commands and allow-lists for this location's
            # gates wait there while the uplink is down.
            "cleansession false",
            f"local_clientid toolgate-uplink-{slug}",
            "keepalive_interval 30",
            f"restart_timeout {restart_timeout}",
            # The bridge's up/down state stays on the local broker ($SYS/broker/connection/...):
            # the centre's ACL gives the location no topic outside its gates'.
            "notifications true",
            "notifications_local_only true",
            *topics,
            "",
        ]
    )
