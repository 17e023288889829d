"""Shelly Gen2+ smart relays (Plus 1PM, Pro 1PM, Plus Plug S, ...) over their local RPC API.

`GET http://<host>/rpc/Switch.Set?id=<n>&on=true` switches, `Switch.GetStatus?id=<n>` reports the
output and the power the load draws (`apower`, watts). A device with a password wants HTTP digest
auth (user `admin`, SHA-256), which `requests` speaks; it is imported when the relay is built.
"""

from __future__ import annotations

from typing import Any

from gate_agent.interfaces import RelayError, SensorError

from .http_relay import HttpRelay

SHELLY_USER = "admin"  # Gen2+ devices accept only this user name


class ShellyRelay(HttpRelay):
    """Switch `channel` (its RPC `id`, from 0) of a Shelly Gen2+ device; also its power meter.

    `is_on` is the state last commanded (off until `on()` is called). Every call has `timeout`
    seconds; a device that does not answer raises `RelayError` (or `SensorError` for readings).
    """

    NAME = "Shelly"

    def __init__(
        self,
        host: str,
        *,
        channel: int = 0,
        password: str | None = None,
        timeout: float = 2.0,
        scheme: str = "http",
    ) -> None:
        super().__init__(f"{scheme}://{host}/rpc", timeout=timeout)
        if password:
            from requests.auth import HTTPDigestAuth

            self._session.auth = HTTPDigestAuth(SHELLY_USER, password)
        self._id = channel

    def read_back(self) -> bool:
        output = self.status().get("output")
        if not isinstance(output, bool):
            raise RelayError(f"Shelly at {self._url} sent no output state")
        return output

    def watts(self) -> float:
        try:
            power = self.status().get("apower")
        except RelayError as exc:
            raise SensorError(str(exc)) from None
        if isinstance(power, bool) or not isinstance(power, int | float):
            raise SensorError(f"Shelly at {self._url} reports no power (is it a PM model?)")
        return float(power)

    def status(self) -> dict[str, Any]:
        return self._call("Switch.GetStatus")

    def _switch(self, on: bool) -> None:
        self._call("Switch.Set", on="true" if on else "false")

    def _call(self, method: str, **params: str) -> dict[str, Any]:
        return self._get(f"{self._url}/{method}", {"id": str(self._id), **params}, method)
