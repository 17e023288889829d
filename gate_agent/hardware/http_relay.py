"""What the smart relays on the local network share: a `requests` session with a timeout,
the commanded state, and every failure (no answer, an HTTP error, a reply that is not a JSON
object) raised as `RelayError`."""

from __future__ import annotations

from typing import Any

from gate_agent.interfaces import RelayError


class HttpRelay:
    NAME = "device"

    def __init__(self, url: str, *, timeout: float) -> None:
        import requests

        self._requests = requests
        self._url, self._timeout = url, timeout
        self._session = requests.Session()
        self._on = False

    def on(self) -> None:
        self._on = True  # commanded: if the call fails, the agent switches off again
        self._switch(True)

    def off(self) -> None:
        self._on = False
        self._switch(False)

    @property
    def is_on(self) -> bool:
        return self._on

    def close(self) -> None:
        self._session.close()

    def _switch(self, on: bool) -> None:
        raise NotImplementedError

    def _get(self, url: str, params: dict[str, str], what: str) -> dict[str, Any]:
        where = f"{self.NAME} {what} at {url}"
        try:
            response = self._session.get(url, params=params, timeout=self._timeout)
        except self._requests.RequestException as exc:
            raise RelayError(f"{where}: {exc}") from None
        if response.status_code == 401:
            raise RelayError(f"{where}: the password was refused (401)")
        if response.status_code != 200:
            raise RelayError(f"{where}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise RelayError(f"{where}: not JSON") from None
        if not isinstance(body, dict):
            raise RelayError(f"{where}: unexpected reply")
        return body
