"""Socket options every Toolgate MQTT connection uses, on the gate and on the site."""

from __future__ import annotations

import socket
from typing import cast

import paho.mqtt.client as mqtt


def _send_immediately(client: mqtt.Client, userdata: object, sock: mqtt.SocketLike) -> None:
    # Toolgate's clients use paho's TCP transport, whose socket is a real one (plain or TLS).
    cast(socket.socket, sock).setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def send_packets_immediately(client: mqtt.Client) -> None:
    """Turn off Nagle's algorithm on the client's socket, (re)connection after (re)connection.

    MQTT packets here are a few hundred bytes: with Nagle on, a reply written while the peer's
    delayed ACK for the previous packet is pending waits up to 40 ms for it, on every hop.
    """
    client.on_socket_open = _send_immediately
