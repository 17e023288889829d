"""The agent's TOML configuration, validated at start-up so a typo stops it with a clear message.

See gate_agent/example-config.toml for every key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate_agent.i18n import LANGUAGES, SOURCE_LANGUAGE, translations
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


RELAY_BACKENDS = ("gpio", "shelly", "tasmota", "tasmota_mqtt", "simulated")
SMART_RELAYS = ("shelly", "tasmota", "tasmota_mqtt")
READER_BACKENDS = ("evdev", "serial", "pn532", "mfrc522", "stdin")
PN532_INTERFACES = ("i2c", "spi", "uart")
POWER_SOURCES = ("none", "relay", "ads1115", "simulated")
DISPLAY_BACKENDS = ("terminal", "ssd1306", "log")


@dataclass(frozen=True)
class RelayConfig:
    backend: str = "simulated"
    pin: int | None = None
    active_high: bool = True
    # shelly and tasmota: the plug on the local network
    host: str | None = None
    channel: int | None = None  # shelly switch id (from 0), tasmota relay number (from 1)
    password: str | None = field(default=None, repr=False)
    timeout: float = 2.0
    retry_seconds: float = 5.0  # an off not confirmed is tried again this often
    # tasmota_mqtt: host is the space's broker; the plug's Tasmota topic, broker port and login
    topic: str | None = None
    port: int = 1883
    username: str | None = None


@dataclass(frozen=True)
class ReaderConfig:
    backend: str = "stdin"
    device: str | None = None
    baudrate: int = 9600
    grab: bool = True
    # pn532: i2c, spi (chip select on cs_pin) or uart (the serial port in device)
    interface: str = "i2c"
    cs_pin: int | None = None
    # mfrc522: /dev/spidev<spi_bus>.<spi_device> (CE0 is device 0)
    spi_bus: int = 0
    spi_device: int = 0
    # A card held on the reader is reported once; again only after it has been away this long.
    release_seconds: float = 1.0


@dataclass(frozen=True)
class PowerConfig:
    """Where the machine's power reading comes from, and what busy and idle mean for it."""

    source: str = "none"
    busy_watts: float = 50.0
    idle_watts: float = 10.0
    idle_minutes: float | None = None
    idle_grace_minutes: float = 2.0
    sample_seconds: float = 2.0
    settle_seconds: float = 3.0
    # ads1115: a current transformer with a voltage output on one ADC input
    i2c_address: int = 0x48
    adc_channel: int = 0
    amps_per_volt: float = 30.0
    mains_volts: float = 230.0


@dataclass(frozen=True)
class DisplayConfig:
    backend: str = "log"
    i2c_port: int = 1
    i2c_address: int = 0x3C
    # A TrueType font for the OLED; None: luma's built-in one, which has Latin letters only.
    font: Path | None = None
    font_size: int = 12


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
    power: PowerConfig = field(default_factory=PowerConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    # The gate's time zone (IANA name) for the times it shows; None: the Pi's own zone.
    timezone: str | None = None
    # The language of the lines it shows (gate_agent.i18n.LANGUAGES).
    language: str = SOURCE_LANGUAGE


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

    def pin(self, needed: bool, key: str = "pin", backend: str = "gpio") -> int | None:
        pin: int | None = self.get(key, int)
        if needed and pin is None:
            raise ConfigError(f"{self._where(key)} is required for the {backend} backend")
        if pin is not None and not 0 <= pin <= 27:
            raise ConfigError(f"{self._where(key)} must be a BCM GPIO number 0-27")
        return pin

    def integer(self, key: str, default: int, lo: int, hi: int) -> int:
        value: int = self.get(key, int, default)
        if not lo <= value <= hi:
            raise ConfigError(f"{self._where(key)} must be {lo}-{hi}")
        return value

    def not_negative(self, key: str, default: float) -> float:
        value = float(self.get(key, (int, float), default))
        if value < 0:
            raise ConfigError(f"{self._where(key)} must not be negative")
        return value

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
        relay=_relay(_Section(top.get("relay", dict, {}), "relay"), base),
        reader=_reader(_Section(top.get("reader", dict, {}), "reader")),
        indicator=_indicator(_Section(top.get("indicator", dict, {}), "indicator")),
        power=_power(_Section(top.get("power", dict, {}), "power")),
        display=_display(_Section(top.get("display", dict, {}), "display"), base),
        timezone=_timezone(top),
        language=_language(top),
    )
    top.finish()
    oled = config.display.backend == "ssd1306"
    if config.language != SOURCE_LANGUAGE and oled and config.display.font is None:
        raise ConfigError(
            f"[display] font is required for language {config.language!r} on the ssd1306 "
            "(its built-in font has Latin letters only), e.g. "
            "/usr/share/fonts/truetype/nanum/NanumGothic.ttf (Debian's fonts-nanum)"
        )
    if config.power.source == "relay" and config.relay.backend not in SMART_RELAYS:
        raise ConfigError(
            '[power] source = "relay" needs a metering relay (shelly, tasmota or tasmota_mqtt)'
        )
    return config


def _timezone(top: _Section) -> str | None:
    name: str | None = top.get("timezone", str)
    if name is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"timezone {name!r} is not a known IANA zone") from None
    return name


def _language(top: _Section) -> str:
    """One the package has a catalogue for, so a typo stops the agent at start-up, not later."""
    name = top.choice("language", LANGUAGES, SOURCE_LANGUAGE)
    try:
        translations(name)
    except OSError:
        raise ConfigError(f"language {name!r}: its catalogue is not installed") from None
    return name


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


def _relay(s: _Section, base: Path) -> RelayConfig:
    backend = s.choice("backend", RELAY_BACKENDS, "simulated")
    networked = backend in SMART_RELAYS
    inline, from_file = s.get("password", str), _read_secret_file(s, "password_file", base)
    if inline is not None and from_file is not None:
        raise ConfigError("[relay] give either password or password_file, not both")
    host: str | None = s.get("host", str)
    if networked and not host:
        raise ConfigError(f"[relay] host is required for the {backend} backend (IP or name)")
    if host is not None and ("/" in host or " " in host):
        raise ConfigError("[relay] host is a name or address with an optional :port, no path")
    first = 1 if backend.startswith("tasmota") else 0
    topic: str | None = s.get("topic", str)
    if backend == "tasmota_mqtt" and not topic:
        raise ConfigError("[relay] topic is required for tasmota_mqtt (the plug's MQTT topic)")
    if topic is not None and any(c in topic for c in "/+# "):
        raise ConfigError("[relay] topic is the plug's Topic setting: no '/', '+', '#' or space")
    if backend != "tasmota_mqtt":
        for key in ("topic", "username", "port"):
            if key in s.data:
                raise ConfigError(f"[relay] {key} is for the tasmota_mqtt backend only")
    elif (inline or from_file) and "username" not in s.data:
        raise ConfigError("[relay] username is required with a password for tasmota_mqtt")
    relay = RelayConfig(
        backend=backend,
        pin=s.pin(backend == "gpio"),
        active_high=s.get("active_high", bool, True),
        host=host,
        channel=s.integer("channel", first, first, 8),
        password=inline if inline is not None else from_file,
        timeout=s.positive("timeout", 2.0),
        retry_seconds=s.positive("retry_seconds", 5.0),
        topic=topic,
        port=s.integer("port", 1883, 1, 65535),
        username=s.get("username", str),
    )
    s.finish()
    return relay


def _reader(s: _Section) -> ReaderConfig:
    backend = s.choice("backend", READER_BACKENDS, "stdin")
    interface = s.choice("interface", PN532_INTERFACES, "i2c")
    reader = ReaderConfig(
        backend=backend,
        device=s.get("device", str),
        baudrate=s.get("baudrate", int, 9600 if backend != "pn532" else 115200),
        grab=s.get("grab", bool, True),
        interface=interface,
        cs_pin=s.pin(backend == "pn532" and interface == "spi", "cs_pin", "pn532 spi"),
        spi_bus=s.integer("spi_bus", 0, 0, 6),
        spi_device=s.integer("spi_device", 0, 0, 3),
        release_seconds=s.positive("release_seconds", 1.0),
    )
    needs_device = backend in ("evdev", "serial") or (backend, interface) == ("pn532", "uart")
    if needs_device and reader.device is None:
        raise ConfigError(f"[reader] device is required for the {backend} backend")
    s.finish()
    return reader


def _power(s: _Section) -> PowerConfig:
    source = s.choice("source", POWER_SOURCES, "none")
    idle_minutes = s.get("idle_minutes", (int, float))
    if idle_minutes is not None and idle_minutes <= 0:
        raise ConfigError("[power] idle_minutes must be positive (leave it out for no auto-off)")
    power = PowerConfig(
        source=source,
        busy_watts=s.positive("busy_watts", 50.0),
        idle_watts=s.not_negative("idle_watts", 10.0),
        idle_minutes=None if idle_minutes is None else float(idle_minutes),
        idle_grace_minutes=s.not_negative("idle_grace_minutes", 2.0),
        sample_seconds=s.positive("sample_seconds", 2.0),
        settle_seconds=s.not_negative("settle_seconds", 3.0),
        i2c_address=s.integer("i2c_address", 0x48, 0x48, 0x4B),
        adc_channel=s.integer("adc_channel", 0, 0, 3),
        amps_per_volt=s.positive("amps_per_volt", 30.0),
        mains_volts=s.positive("mains_volts", 230.0),
    )
    if power.idle_watts >= power.busy_watts:
        raise ConfigError("[power] idle_watts must be below busy_watts")
    s.finish()
    return power


def _display(s: _Section, base: Path) -> DisplayConfig:
    font = s.path("font")
    display = DisplayConfig(
        backend=s.choice("backend", DISPLAY_BACKENDS, "log"),
        i2c_port=s.integer("i2c_port", 1, 0, 22),
        i2c_address=s.integer("i2c_address", 0x3C, 0x3C, 0x3D),
        font=None if font is None else base / font,
        font_size=s.integer("font_size", 12, 6, 32),
    )
    s.finish()
    if display.font is not None and not display.font.is_file():
        raise ConfigError(f"[display] font: no such file {display.font}")
    return display


def _indicator(s: _Section) -> IndicatorConfig:
    backend = s.choice("backend", ("gpio", "log"), "log")
    indicator = IndicatorConfig(
        backend=backend, pin=s.pin(backend == "gpio"), active_high=s.get("active_high", bool, True)
    )
    s.finish()
    return indicator


def check_gates_apart(configs: list[AgentConfig]) -> None:
    """Gates run by one process share nothing: not a device id, a state directory, a relay pin
    or plug, nor a reader."""
    seen: dict[tuple[str, object], int] = {}
    for number, config in enumerate(configs, start=1):
        keys: list[tuple[str, object]] = [
            ("device_id", config.device_id),
            ("state_dir", config.state_dir.resolve()),
        ]
        relay, reader = config.relay, config.reader
        if relay.backend == "gpio":
            keys.append(("[relay] pin", relay.pin))
        elif relay.backend == "tasmota_mqtt":
            # Every plug of the room reports to the same broker: the topic tells them apart.
            plug = (relay.host, relay.port, relay.topic, relay.channel)
            keys.append(("[relay] broker, topic and channel", plug))
        elif relay.backend in SMART_RELAYS:
            keys.append(("[relay] host and channel", (relay.host, relay.channel)))
        if reader.backend != "stdin":
            keys.append(("[reader]", _reader_wiring(reader)))
        for key in keys:
            if key in seen:
                raise ConfigError(f"gates {seen[key]} and {number} share the same {key[0]}")
            seen[key] = number


def _reader_wiring(reader: ReaderConfig) -> tuple[object, ...]:
    """What one reader occupies: its device file, SPI chip select, or the PN532's fixed I2C
    address (two PN532 boards cannot share one I2C bus)."""
    if reader.backend == "mfrc522":
        return ("spi", reader.spi_bus, reader.spi_device)
    if reader.backend == "pn532" and reader.interface == "spi":
        return ("spi", "gpio", reader.cs_pin)
    if reader.backend == "pn532" and reader.interface == "i2c":
        return ("i2c", "pn532")
    return ("device", reader.device)
