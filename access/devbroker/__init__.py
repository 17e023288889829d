"""An embedded MQTT v5 broker for development and demos only, so `make run` works without
Mosquitto.

It serves exactly what Toolgate's clients use: MQTT v5 CONNECT with session expiry, clean and
persistent sessions (QoS 1 messages queued while offline), last wills, keepalive, `+`/`#`
wildcards, shared subscriptions (`$share/<group>/<filter>`, each message to one member),
retained messages, QoS 0 and 1. It has no TLS and no authentication (any user name and password
are accepted), binds loopback addresses only and keeps nothing across restarts. Production, and
anyone with Mosquitto installed, uses Mosquitto: see the README's deploy section.
"""

from __future__ import annotations

import asyncio
import threading

from access.devbroker.broker import DevBroker, is_loopback

__all__ = ["BrokerThread", "DevBroker", "is_loopback"]


class BrokerThread:
    """A `DevBroker` on its own event loop in a background thread (tests, embedding).

    `start()` binds (port 0: a free one, kept for later restarts) and returns once it listens;
    `stop()` closes it, dropping every session and retained message, as a restart would.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.broker: DevBroker | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    def start(self) -> BrokerThread:
        ready = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            self.broker = DevBroker(host=self.host, port=self.port)
            try:
                await self.broker.start()
            except OSError as error:
                failure.append(error)
                ready.set()
                return
            self.port = self.broker.port
            self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
            ready.set()
            await self._stopping.wait()
            await self.broker.close()

        self._thread = threading.Thread(
            target=asyncio.run, args=(main(),), name="devbroker", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError("the development broker did not start")
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = self._loop = self._stopping = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def __enter__(self) -> BrokerThread:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
