"""The agent's TOML configuration, validated at start-up so a typo stops it with a clear message.

See gate_agent/example-config.toml for every key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate_agent.protocol.fields import DEVICE_ID_RE

MIN_SECRET_CHARS = 16


class ConfigError(ValueError):
    """The configuration is missing something or has a wrong value."""


@dataclass(frozen=True)
class BrokerConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    keepalive: int = 30


@dataclass(frozen=True)
class RelayConfig:
    backend: str = "simulated"
    pin: int | None = None
    active_high: bool = True


@dataclass(frozen=True)
class ReaderConfig:
    backend: str = "stdin"
    device: str | None = None
    baudrate: int = 9600
    grab: bool = True


@dataclass(frozen=True)
class IndicatorConfig:
    backend: str = "log"
    pin: int | None = None
    active_high: bool = True


@dataclass(frozen=True)
class AgentConfig:
    device_id: str
    secret: str = field(repr=False)
    state_dir: Path
    request_timeout: float = 2.0
    warning_minutes: float = 5.0
    allowlist_max_age_hours: float = 24.0
    heartbeat_seconds: float = 30.0
    broker: BrokerConfig = field(default_factory=BrokerConfig)
    relay: RelayConfig = field(default_factory=RelayConfig)
    reader: ReaderConfig = field(default_factory=ReaderConfig)
    indicator: IndicatorConfig = field(default_factory=IndicatorConfig)


class _Section:
    """Reads typed values out of one TOML table and remembers which keys were used."""

    def __init__(self, data: Any, name: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"[{name}] must be a table")
        self.data, self.name = data, name
        self.used: set[str] = set()

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        # TOML booleans are not numbers, even though Python's bool is an int.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
            raise ConfigError(f"{self._where(key)}: expected {_names(kind)}, got {value!r}")
        return value

    def require(self, key: str, kind: type | tuple[type, ...]) -> Any:
        if key not in self.data:
            raise ConfigError(f"{self._where(key)} is required")
        return self.get(key, kind)

    def positive(self, key: str, default: float) -> float:
        value = float(self.get(key, (int, float), default))
        if value <= 0:
            raise ConfigError(f"{self._where(key)} must be positive")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value: str = self.get(key, str, default)
        if value not in choices:
            raise ConfigError(f"{self._where(key)} must be one of {', '.join(choices)}")
        return value

    def path(self, key: str) -> Path | None:
        value = self.get(key, str)
        return None if value is None else Path(value)

    def pin(self, needed: bool) -> int | None:
        pin: int | None = self.get("pin", int)
        if needed and pin is None:
            raise ConfigError(f"{self._where('pin')} is required for the gpio backend")
        if pin is not None and not 0 <= pin <= 27:
            raise ConfigError(f"{self._where('pin')} must be a BCM GPIO number 0-27")
        return pin

    def finish(self) -> None:
        unknown = set(self.data) - self.used
        if unknown:
            raise ConfigError(f"[{self.name}] has unknown key(s): {', '.join(sorted(unknown))}")

    def _where(self, key: str) -> str:
        return key if self.name == "top level" else f"[{self.name}] {key}"


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _names(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _tuple(kind))


def load_config(path: str | Path) -> AgentConfig:
    """Read and validate a config file; raises `ConfigError` naming the file and the key."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        return parse_config(data, base=path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def parse_config(data: dict[str, Any], *, base: Path = Path()) -> AgentConfig:
    """Validate an already-parsed TOML document; relative file paths resolve against `base`."""
    top = _Section(data, "top level")
    device_id = top.require("device_id", str)
    if not DEVICE_ID_RE.match(device_id):
        raise ConfigError("device_id may hold letters, digits, '-' and '_' (at most 64)")
    config = AgentConfig(
        device_id=device_id,
        secret=_secret(top, base),
        state_dir=base / top.require("state_dir", str),
        request_timeout=top.positive("request_timeout", 2.0),
        warning_minutes=top.positive("warning_minutes", 5.0),
        allowlist_max_age_hours=top.positive("allowlist_max_age_hours", 24.0),
        heartbeat_seconds=top.positive("heartbeat_seconds", 30.0),
        broker=_broker(_Section(top.get("broker", dict, {}), "broker"), base),
        relay=_relay(_Section(top.get("relay", dict, {}), "relay")),
        reader=_reader(_Section(top.get("reader", dict, {}), "reader")),
        indicator=_indicator(_Section(top.get("indicator", dict, {}), "indicator")),
    )
    top.finish()
    return config


def _read_secret_file(section: _Section, key: str, base: Path) -> str | None:
    name: str | None = section.get(key, str)
    if name is None:
        return None
    try:
        return (base / name).read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read {name}: {exc.strerror}") from None


def _secret(top: _Section, base: Path) -> str:
    inline, from_file = top.get("secret", str), _read_secret_file(top, "secret_file", base)
    if inline is not None and from_file is not None:
        raise ConfigError("give either secret or secret_file, not both")
    secret = inline if inline is not None else from_file
    if secret is None:
        raise ConfigError("secret or secret_file is required (the device secret from the site)")
    if len(secret) < MIN_SECRET_CHARS:
        raise ConfigError(f"the device secret must be at least {MIN_SECRET_CHARS} characters")
    return secret


def _broker(s: _Section, base: Path) -> BrokerConfig:
    inline, from_file = s.get("password", str), _read_secret_file(s, "password_file", base)
    if inline is not None and from_file is not None:
        raise ConfigError("[broker] give either password or password_file, not both")
    port = s.get("port", int, 1883)
    if not 0 < port < 65536:
        raise ConfigError("[broker] port must be 1-65535")
    paths = {key: s.path(key) for key in ("ca_file", "client_cert", "client_key")}
    broker = BrokerConfig(
        host=s.get("host", str, "127.0.0.1"),
        port=port,
        tls=s.get("tls", bool, False),
        **{key: None if p is None else base / p for key, p in paths.items()},
        username=s.get("username", str),
        password=inline if inline is not None else from_file,
        keepalive=int(s.positive("keepalive", 30)),
    )
    if (broker.client_cert is None) != (broker.client_key is None):
        raise ConfigError("[broker] client_cert and client_key go together")
    s.finish()
    return broker


def _relay(s: _Section) -> RelayConfig:
    backend = s.choice("backend", ("gpio", "simulated"), "simulated")
    relay = RelayConfig(
        backend=backend, pin=s.pin(backend == "gpio"), active_high=s.get("active_high", bool, True)
    )
    s.finish()
    return relay


def _reader(s: _Section) -> ReaderConfig:
    backend = s.choice("backend", ("evdev", "serial", "stdin"), "stdin")
    reader = ReaderConfig(
        backend=backend,
        device=s.get("device", str),
        baudrate=s.get("baudrate", int, 9600),
        grab=s.get("grab", bool, True),
    )
    if backend != "stdin" and reader.device is None:
        raise ConfigError(f"[reader] device is required for the {backend} backend")
    s.finish()
    return reader


def _indicator(s: _Section) -> IndicatorConfig:
    backend = s.choice("backend", ("gpio", "log"), "log")
    indicator = IndicatorConfig(
        backend=backend, pin=s.pin(backend == "gpio"), active_high=s.get("active_high", bool, True)
    )
    s.finish()
    return indicator
