"""One HTTP POST to a webhook receiver, to an address checked just before connecting.

The host is resolved here and every address it resolves to is checked (webhooks.rules); the
connection then goes to the checked address itself, so a DNS answer that changes between the check
and the connection (DNS rebinding) cannot point the request at the site's own network. Redirects
are not followed (a redirect to a private address would be the same hole).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from webhooks import rules

READ_AT_MOST = 64 * 1024
EXCERPT_CHARS = 500


class Refused(Exception):
    """The URL or the address it resolves to may not be called; no connection was made."""


@dataclass(frozen=True)
class Answer:
    status: int | None
    milliseconds: int
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise Refused(f"The host name {host} does not resolve: {error.strerror}.") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_address(url: str) -> tuple[str, int]:
    """The address to connect to for `url`, and the port; Refused if either check fails."""
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    refused = rules.url_refusal(url, allow_private=allow_private)
    if refused:
        raise Refused(refused)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(parts.hostname or "", port)
    refused = rules.address_refusal(addresses, allow_private=allow_private)
    if refused:
        raise Refused(refused)
    return addresses[0], port


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the URL's host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url`; the answer or, for no answer, the error. Raises Refused before any
    connection when the URL or its address may not be called."""
    address, port = checked_address(url)
    parts = urlsplit(url)
    cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = cls(
        parts.hostname or "", port, address=address, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Toolgate-Webhooks/1",
                **headers,
            },
        )
        response = connection.getresponse()
        raw = response.read(READ_AT_MOST)
        return Answer(
            status=response.status,
            milliseconds=_since(started),
            excerpt=raw.decode("utf-8", "replace")[:EXCERPT_CHARS],
        )
    except (OSError, http.client.HTTPException) as error:
        return Answer(status=None, milliseconds=_since(started), error=_said(error))
    finally:
        connection.close()


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _said(error: Exception) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return "No answer in time (timed out)."
    return f"{type(error).__name__}: {error}"[:EXCERPT_CHARS]
