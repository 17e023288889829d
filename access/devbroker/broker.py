"""The development broker: listens, keeps sessions and retained messages, routes each message.

Everything runs on one asyncio event loop, so no locks: a connection's packets are handled in
order and routing writes straight into each receiver's transport.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging

from access.devbroker.connection import SERVER_SHUTTING_DOWN, SESSION_TAKEN_OVER, Connection
from access.devbroker.sessions import Message, Session, Subscription
from access.devbroker.topics import topic_matches

log = logging.getLogger("access.devbroker")

BANNER = (
    "Development MQTT broker on %s:%d: MQTT v5 for `make run` and tests only. No TLS, no "
    "authentication, loopback only, nothing kept across restarts. Production uses Mosquitto "
    "(README, 'Deploying')."
)
NEVER_EXPIRES = 0xFFFFFFFF


class DevBroker:
    """An MQTT v5 broker for development: bind it with `start()`, stop it with `close()`."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 1883) -> None:
        if not is_loopback(host):
            raise ValueError(f"the development broker binds loopback addresses only, not {host!r}")
        self.host, self.port = host, port
        self.sessions: dict[str, Session] = {}
        self.retained: dict[str, Message] = {}
        self.closing = False
        self._turns: dict[tuple[str, str], int] = {}
        self._connections: dict[Connection, asyncio.Task] = {}
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen; with port 0 the system picks a free port, then `port` says which."""
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.warning(BANNER, self.host, self.port)

    async def close(self) -> None:
        self.closing = True
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.close(SERVER_SHUTTING_DOWN)
        for session in self.sessions.values():
            if session.expiry_timer is not None:
                session.expiry_timer.cancel()
        # Hung up, each connection's read loop ends by itself; let it, rather than cancel it.
        if self._connections:
            await asyncio.wait(list(self._connections.values()), timeout=5)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(self, reader, writer)
        self._connections[connection] = asyncio.current_task()
        try:
            await connection.serve()
        finally:
            del self._connections[connection]

    def attach(
        self, connection: Connection, client_id: str, *, clean_start: bool, expiry: int
    ) -> tuple[Session, bool]:
        """The session for a new connection, and whether it was resumed (session present)."""
        session = self.sessions.get(client_id)
        if session is not None:
            if session.expiry_timer is not None:
                session.expiry_timer.cancel()
                session.expiry_timer = None
            previous = session.connection
            if previous is not None:
                # The same client id connecting again takes the session over (MQTT v5, 3.1.4).
                previous.close(SESSION_TAKEN_OVER)
                previous.session = None
                previous.publish_will()
        present = session is not None and not clean_start
        if not present:
            session = self.sessions[client_id] = Session(client_id)
        assert session is not None
        session.connection, session.expiry = connection, expiry
        return session, present

    def detach(self, connection: Connection) -> None:
        session = connection.session
        if session is None or session.connection is not connection:
            return
        session.connection = None
        if session.expiry == 0:
            self._discard(session)
        elif session.expiry != NEVER_EXPIRES:
            loop = asyncio.get_running_loop()
            session.expiry_timer = loop.call_later(session.expiry, self._expire, session)

    def _expire(self, session: Session) -> None:
        if session.connection is None:
            self._discard(session)

    def _discard(self, session: Session) -> None:
        if self.sessions.get(session.client_id) is session:
            del self.sessions[session.client_id]

    def route(self, message: Message, *, sender: Session | None) -> None:
        """Keep it if retained; give it to every matching session once, and to one member of
        each matching shared subscription group."""
        if message.retain:
            if message.payload:
                self.retained[message.topic] = message
            else:
                self.retained.pop(message.topic, None)
        groups: dict[tuple[str, str], list[tuple[Session, Subscription]]] = {}
        for session in list(self.sessions.values()):
            best: Subscription | None = None
            for subscription in session.subscriptions.values():
                if not topic_matches(subscription.topic_filter, message.topic):
                    continue
                if subscription.group is not None:
                    key = (subscription.group, subscription.topic_filter)
                    groups.setdefault(key, []).append((session, subscription))
                elif not (subscription.no_local and session is sender) and (
                    best is None or subscription.qos > best.qos
                ):
                    best = subscription
            if best is not None:
                session.deliver(best.delivered(message))
        for key, members in groups.items():
            session, subscription = self._next_member(key, members)
            session.deliver(subscription.delivered(message))

    def _next_member(
        self, key: tuple[str, str], members: list[tuple[Session, Subscription]]
    ) -> tuple[Session, Subscription]:
        """Round robin over the group's connected members (or, with none, its offline ones)."""
        online = [member for member in members if member[0].connection is not None] or members
        turn = self._turns[key] = self._turns.get(key, -1) + 1
        return online[turn % len(online)]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
