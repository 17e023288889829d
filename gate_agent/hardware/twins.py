"""Simulated smart relays that speak the real devices' protocols.

`ShellyTwin` answers Shelly Gen2+ RPC (`/rpc/Switch.Set`, `/rpc/Switch.GetStatus`) on a local
port, with SHA-256 digest auth when it has a password; `TasmotaTwin` answers Tasmota's
`/cm?cmnd=...` there, and `TasmotaMqttTwin` Tasmota's `cmnd/<topic>/...` on an MQTT broker. All
model the machine behind them (`Plug`): `load_watts` is drawn while the output is on, or always
when `welded` (a contact that no longer opens); `stuck` ignores switching; `hang()` stops
answering (requests time out) until `resume()`. The tests and `python -m gate_agent --simulate`
use them. Standard library only, and paho-mqtt for the MQTT twin.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DIGEST_REALM = "shellyplus1pm-twin"


class Plug:
    """The relay of a twin and the machine it powers."""

    def __init__(self) -> None:
        self.output, self.load_watts, self.welded, self.stuck = False, 0.0, False, False

    @property
    def watts(self) -> float:
        return self.load_watts if self.output or self.welded else 0.0

    def switch(self, on: bool) -> bool:
        """Switch (unless `stuck`); returns whether the output was on before."""
        was_on = self.output
        if not self.stuck:
            self.output = on
        return was_on


class _Twin(Plug):
    """A device on 127.0.0.1:<port> served by a daemon thread; `close()` stops it."""

    def __init__(self, *, password: str | None = None, port: int = 0) -> None:
        super().__init__()
        self.password = password
        self.requests: list[str] = []  # the path and query of each request answered
        self._lock = threading.Lock()
        self._answering = threading.Event()
        self._answering.set()
        twin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                twin._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read `requests` instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def hang(self) -> None:
        """Stop answering: connections are accepted and never replied to."""
        self._answering.clear()

    def resume(self) -> None:
        self._answering.set()

    def close(self) -> None:
        self._answering.set()
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        if not self._answering.is_set():
            # A hung device: the request is never answered, nor applied later.
            self._answering.wait()
            request.close_connection = True
            return
        url = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with self._lock:
            status, body, headers = self.answer(request, url.path, query)
        if status == 200:
            self.requests.append(request.path)
        payload = json.dumps(body).encode()
        try:
            request.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            request.close_connection = True  # the client gave up waiting

    def answer(
        self, request: BaseHTTPRequestHandler, path: str, query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError


class ShellyTwin(_Twin):
    """A Shelly Plus 1PM: switch id 0, power metering, optional digest auth (user admin)."""

    def answer(
        self, request: BaseHTTPRequestHandler, path: str, query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if self.password and not self._authorised(request):
            nonce = secrets.token_hex(8)
            challenge = (
                f'Digest qop="auth", realm="{DIGEST_REALM}", nonce="{nonce}", algorithm=SHA-256'
            )
            return 401, {"code": 401, "message": "Unauthorized"}, {"WWW-Authenticate": challenge}
        if query.get("id", "0") != "0":
            return 400, {"code": -105, "message": "Argument 'id', value not found!"}, {}
        if path == "/rpc/Switch.Set":
            if query.get("on") not in ("true", "false"):
                return 400, {"code": -103, "message": "Missing required argument 'on'!"}, {}
            return 200, {"was_on": self.switch(query["on"] == "true")}, {}
        if path == "/rpc/Switch.GetStatus":
            return 200, self._status(), {}
        return 404, {"code": 404, "message": "No handler for " + path}, {}

    def _status(self) -> dict[str, Any]:
        watts = self.watts
        return {
            "id": 0,
            "source": "HTTP",
            "output": self.output,
            "apower": round(watts, 1),
            "voltage": 230.0,
            "current": round(watts / 230.0, 3),
            "aenergy": {"total": 0.0, "by_minute": [0.0, 0.0, 0.0], "minute_ts": 0},
            "temperature": {"tC": 41.0, "tF": 105.8},
        }

    def _authorised(self, request: BaseHTTPRequestHandler) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Digest "):
            return False
        fields = dict(_digest_fields(header[len("Digest ") :]))
        if fields.get("username") != "admin" or fields.get("realm") != DIGEST_REALM:
            return False

        def h(text: str) -> str:
            return hashlib.sha256(text.encode()).hexdigest()

        ha1 = h(f"admin:{DIGEST_REALM}:{self.password}")
        ha2 = h(f"GET:{fields.get('uri', '')}")
        expected = h(
            f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:"
            f"{fields.get('qop')}:{ha2}"
        )
        return secrets.compare_digest(expected, fields.get("response", ""))


def _digest_fields(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split(","):
        key, _, value = part.strip().partition("=")
        out.append((key.strip(), value.strip().strip('"')))
    return out


class TasmotaTwin(_Twin):
    """A Tasmota plug with one relay (Power1) and an energy meter; optional web password."""

    def answer(
        self, request: BaseHTTPRequestHandler, path: str, query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if path != "/cm":
            return 404, {}, {}
        if self.password and (
            query.get("user") != "admin" or query.get("password") != self.password
        ):
            return 401, {"WARNING": "Need user=<username>&password=<password>"}, {}
        command, _, argument = query.get("cmnd", "").partition(" ")
        name = command.upper()
        if name in ("POWER", "POWER1"):
            if argument.upper() in ("ON", "OFF"):
                self.switch(argument.upper() == "ON")
            elif argument:
                return 200, {"Command": "Error"}, {}
            return 200, {name: "ON" if self.output else "OFF"}, {}
        if name == "STATUS" and argument == "8":
            energy = {"Total": 0.0, "Power": round(self.watts), "Voltage": 230, "Current": 0.0}
            return 200, {"StatusSNS": {"Time": "2027-01-15T08:00:00", "ENERGY": energy}}, {}
        return 200, {"Command": "Unknown"}, {}


class TasmotaMqttTwin(Plug):
    """A Tasmota plug on an MQTT broker: answers `cmnd/<topic>/Power1` and `Status 8` on
    `stat/<topic>/...` as the firmware does, logged in as `username` if given."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        topic: str,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        super().__init__()
        self.topic = topic
        self._answering = True
        ready = threading.Event()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"tasmota-twin-{topic}"
        )
        if username is not None:
            self._client.username_pw_set(username, password)

        def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
            client.subscribe(f"cmnd/{topic}/#", qos=1)

        def on_subscribe(client: Any, userdata: Any, mid: int, codes: Any, props: Any) -> None:
            ready.set()

        self._client.on_connect = on_connect
        self._client.on_subscribe = on_subscribe
        self._client.on_message = self._on_message
        self._client.connect(host, port)
        self._client.loop_start()
        if not ready.wait(5):
            self.close()
            raise RuntimeError("the Tasmota twin could not subscribe")

    def hang(self) -> None:
        """Stop answering (the plug unplugged): commands are received and dropped."""
        self._answering = False

    def resume(self) -> None:
        self._answering = True

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        if not self._answering:
            return
        command = message.topic.rsplit("/", 1)[-1].upper()
        payload = message.payload.decode().strip().upper()
        stat = f"stat/{self.topic}"
        if command in ("POWER", "POWER1"):
            if payload in ("ON", "OFF"):
                self.switch(payload == "ON")
            state = "ON" if self.output else "OFF"
            client.publish(f"{stat}/RESULT", json.dumps({command: state}), qos=1)
            client.publish(f"{stat}/{command}", state, qos=1)
        elif command == "STATUS" and payload == "8":
            energy = {"Power": round(self.watts), "Voltage": 230}
            client.publish(f"{stat}/STATUS8", json.dumps({"StatusSNS": {"ENERGY": energy}}))
