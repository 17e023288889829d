"""Tasmota smart plugs and relays (Sonoff, Nous, Athom, ...) over their HTTP command interface.

`GET http://<host>/cm?cmnd=Power1%20On` switches and answers `{"POWER1":"ON"}` (single-relay
devices may answer `{"POWER":"ON"}`); `cmnd=Status 8` reports the energy meter's `Power` in watts.
A device with a web password takes `user=admin&password=...` in the query (Tasmota's own scheme).
"""

from __future__ import annotations

from typing import Any

from gate_agent.interfaces import RelayError, SensorError

from .http_relay import HttpRelay

TASMOTA_USER = "admin"


class TasmotaRelay(HttpRelay):
    """Relay `channel` (1-based) of a Tasmota device; also its energy meter, if it has one."""

    NAME = "Tasmota"

    def __init__(
        self,
        host: str,
        *,
        channel: int = 1,
        password: str | None = None,
        timeout: float = 2.0,
        scheme: str = "http",
    ) -> None:
        super().__init__(f"{scheme}://{host}/cm", timeout=timeout)
        self._channel, self._password = channel, password

    def read_back(self) -> bool:
        return self._power("")

    def watts(self) -> float:
        try:
            body = self._command("Status 8")
        except RelayError as exc:
            raise SensorError(str(exc)) from None
        energy = body.get("StatusSNS", {}).get("ENERGY", {})
        power = energy.get("Power") if isinstance(energy, dict) else None
        if isinstance(power, list):  # several channels: one reading each
            power = power[self._channel - 1] if len(power) >= self._channel else None
        if isinstance(power, bool) or not isinstance(power, int | float):
            raise SensorError(f"Tasmota at {self._url} reports no power (no energy meter?)")
        return float(power)

    def _switch(self, on: bool) -> None:
        self._power("On" if on else "Off")

    def _power(self, action: str) -> bool:
        name = f"Power{self._channel}"
        body = self._command(f"{name} {action}".strip())
        # One-relay devices answer POWER, several-relay devices POWER<n>.
        state = body.get(name.upper(), body.get("POWER") if self._channel == 1 else None)
        if state not in ("ON", "OFF"):
            raise RelayError(f"Tasmota at {self._url} did not report {name}: {body!r:.80}")
        return bool(state == "ON")

    def _command(self, command: str) -> dict[str, Any]:
        params = {"cmnd": command}
        if self._password:
            params |= {"user": TASMOTA_USER, "password": self._password}
        body = self._get(self._url, params, repr(command))
        if "WARNING" in body:  # e.g. "Need user=<username>&password=<password>"
            raise RelayError(f"Tasmota at {self._url}: {body['WARNING']}")
        return body
