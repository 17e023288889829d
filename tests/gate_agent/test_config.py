"""Configuration: the example file loads, and mistakes stop start-up with a clear message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import gate_agent
from gate_agent.config import ConfigError, load_config, parse_config

EXAMPLE = Path(gate_agent.__file__).parent / "example-config.toml"
SECRET = "s" * 32


def test_example_config_loads(tmp_path):
    (tmp_path / "gate.secret").write_text(SECRET + "\n")
    (tmp_path / "mqtt.password").write_text("pw\n")
    text = EXAMPLE.read_text().replace("/etc/toolgate/gate.secret", "gate.secret")
    text = text.replace("/etc/toolgate/mqtt.password", "mqtt.password")
    (tmp_path / "gate.toml").write_text(text)
    config = load_config(tmp_path / "gate.toml")
    assert config.device_id == "laser-1"
    assert config.secret == SECRET and SECRET not in repr(config)
    assert config.broker.password == "pw" and config.broker.tls
    assert (config.relay.backend, config.relay.pin, config.relay.active_high) == ("gpio", 17, False)
    assert config.reader.backend == "evdev" and config.request_timeout == 2.0


def test_minimal_config_has_safe_defaults():
    config = parse_config({"device_id": "g1", "secret": SECRET, "state_dir": "state"})
    assert config.relay.backend == "simulated" and config.broker.port == 1883
    assert config.warning_minutes == 5.0
    assert config.language == "en"


def test_a_language_with_a_catalogue_is_taken():
    config = parse_config(
        {"device_id": "g1", "secret": SECRET, "state_dir": "state", "language": "ko"}
    )
    assert config.language == "ko"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"device_id": None}, "device_id is required"),
        ({"device_id": "a/b"}, "device_id may hold"),
        ({"secret": None}, "secret or secret_file is required"),
        ({"secret": "short"}, "at least 16"),
        ({"secret_file": "missing.secret"}, "cannot read"),
        ({"request_timeout": 0}, "request_timeout must be positive"),
        ({"request_timeout": "2"}, "expected int or float"),
        ({"relay": {"backend": "gpio"}}, "pin is required"),
        ({"relay": {"backend": "gpio", "pin": 99}}, "0-27"),
        ({"relay": {"backend": "gpio", "pin": True}}, "expected int"),
        ({"relay": {"backend": "plc"}}, "must be one of"),
        ({"reader": {"backend": "serial"}}, "device is required"),
        ({"broker": {"port": 0}}, "port must be"),
        ({"broker": {"client_cert": "c.pem"}}, "go together"),
        ({"broker": {"tsl": True}}, "unknown key(s): tsl"),
        ({"relay_pin": 4}, "unknown key(s): relay_pin"),
        ({"relay": {"backend": "shelly"}}, "[relay] host is required for the shelly backend"),
        ({"relay": {"backend": "tasmota", "host": "a/b"}}, "[relay] host is a name"),
        (
            {"relay": {"backend": "tasmota", "host": "p", "channel": 0}},
            "[relay] channel must be 1-8",
        ),
        (
            {"relay": {"backend": "shelly", "host": "p", "channel": 9}},
            "[relay] channel must be 0-8",
        ),
        ({"relay": {"backend": "shelly", "host": "p", "timeout": 0}}, "[relay] timeout must be"),
        ({"relay": {"backend": "shelly", "host": "p", "password_file": "nope"}}, "cannot read"),
        ({"reader": {"backend": "pn532", "interface": "usb"}}, "[reader] interface must be"),
        ({"relay": {"backend": "tasmota_mqtt", "host": "mqtt"}}, "[relay] topic is required"),
        ({"relay": {"backend": "tasmota_mqtt", "host": "m", "topic": "a/b"}}, "no '/'"),
        ({"relay": {"backend": "tasmota_mqtt", "host": "m", "topic": "t", "port": 0}}, "1-65535"),
        (
            {"relay": {"backend": "tasmota_mqtt", "host": "m", "topic": "t", "password": "pw"}},
            "[relay] username is required with a password for tasmota_mqtt",
        ),
        (
            {"relay": {"backend": "tasmota", "host": "p", "topic": "t"}},
            "[relay] topic is for the tasmota_mqtt backend only",
        ),
        (
            {"relay": {"backend": "shelly", "host": "p", "username": "admin"}},
            "[relay] username is for the tasmota_mqtt backend only",
        ),
        ({"reader": {"backend": "pn532", "interface": "spi"}}, "[reader] cs_pin is required"),
        ({"reader": {"backend": "pn532", "interface": "uart"}}, "[reader] device is required"),
        ({"reader": {"backend": "mfrc522", "spi_device": 2.0}}, "[reader] spi_device: expected"),
        ({"reader": {"backend": "mfrc522", "spi_device": 4}}, "[reader] spi_device must be 0-3"),
        ({"power": {"source": "relay"}}, "needs a metering relay"),
        ({"power": {"source": "ads1115", "idle_watts": 60}}, "idle_watts must be below busy"),
        ({"power": {"source": "ads1115", "idle_minutes": 0}}, "[power] idle_minutes must be"),
        ({"power": {"source": "ads1115", "adc_channel": 4}}, "[power] adc_channel must be 0-3"),
        ({"power": {"source": "ads1115", "i2c_address": 0x20}}, "[power] i2c_address must be"),
        ({"power": {"source": "ads1115", "busy_watt": 5}}, "unknown key(s): busy_watt"),
        ({"display": {"backend": "lcd"}}, "[display] backend must be one of"),
        ({"timezone": "Mars/Olympus"}, "timezone 'Mars/Olympus' is not a known"),
        ({"language": "fr"}, "language must be one of en, ko"),
        ({"language": 1}, "language: expected str"),
        (
            {"language": "ko", "display": {"backend": "ssd1306"}},
            "[display] font is required for language 'ko' on the ssd1306",
        ),
        ({"display": {"backend": "ssd1306", "font": "missing.ttf"}}, "[display] font: no such"),
    ],
)
def test_mistakes_are_reported_clearly(change, message):
    data = {"device_id": "g1", "secret": SECRET, "state_dir": "state", **change}
    data = {k: v for k, v in data.items() if v is not None}
    if "secret_file" in data:
        del data["secret"]
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert message in str(info.value)


def test_smart_plug_with_meter_and_display(tmp_path):
    (tmp_path / "plug.password").write_text("pw\n")
    data = {
        "device_id": "g1",
        "secret": SECRET,
        "state_dir": "state",
        "timezone": "Europe/Berlin",
        "relay": {"backend": "shelly", "host": "10.0.0.5", "password_file": "plug.password"},
        "power": {"source": "relay", "busy_watts": 200, "idle_watts": 30, "idle_minutes": 15},
        "reader": {"backend": "pn532", "interface": "i2c"},
        "display": {"backend": "ssd1306"},
    }
    config = parse_config(data, base=tmp_path)
    assert (config.relay.host, config.relay.channel, config.relay.password) == ("10.0.0.5", 0, "pw")
    assert "pw" not in repr(config.relay)
    assert config.power.idle_minutes == 15.0 and config.display.i2c_address == 0x3C
    tasmota = parse_config({**data, "relay": {"backend": "tasmota", "host": "plug.local"}})
    assert tasmota.relay.channel == 1


def test_the_backends_are_built_from_the_config():
    from gate_agent.hardware import build_meter, build_relay, usage_policy
    from gate_agent.hardware.shelly import ShellyRelay
    from gate_agent.hardware.tasmota import TasmotaRelay

    base = {"device_id": "g1", "secret": SECRET, "state_dir": "state"}
    config = parse_config(
        {
            **base,
            "relay": {"backend": "tasmota", "host": "plug", "channel": 2},
            "power": {"source": "relay", "idle_minutes": 10, "idle_grace_minutes": 1},
        }
    )
    relay = build_relay(config.relay)
    assert isinstance(relay, TasmotaRelay)
    assert build_meter(config.power, relay) is relay
    policy = usage_policy(config.power)
    assert policy is not None
    assert (policy.idle_warn_seconds, policy.idle_grace_seconds) == (600, 60)
    shelly = parse_config({**base, "relay": {"backend": "shelly", "host": "plug"}})
    assert isinstance(build_relay(shelly.relay), ShellyRelay)
    assert usage_policy(shelly.power) is None and build_meter(shelly.power, relay) is None


def test_unreadable_file_names_the_file(tmp_path):
    bad = tmp_path / "gate.toml"
    bad.write_text("device_id = ")
    with pytest.raises(ConfigError, match=r"gate\.toml"):
        load_config(bad)


def _gate(tmp_path, name: str, **changes) -> Path:
    relay = changes.pop("relay", f'backend = "shelly"\nhost = "{name}.local"')
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'device_id = "{name}"\nsecret = "{SECRET}"\n'
        f'state_dir = "{changes.pop("state_dir", name)}"\n[relay]\n{relay}\n'
    )
    return path


def test_one_process_runs_several_gates_from_their_configs(tmp_path):
    from gate_agent.__main__ import _parser, _real_configs

    args = _parser().parse_args(
        ["--config", str(_gate(tmp_path, "laser")), "--config", str(_gate(tmp_path, "lathe"))]
    )
    configs = _real_configs(args)
    assert [c.device_id for c in configs] == ["laser", "lathe"]
    assert configs[0].state_dir != configs[1].state_dir


@pytest.mark.parametrize(
    ("second", "shared"),
    [
        ({"state_dir": "laser"}, "state_dir"),
        ({"relay": 'backend = "shelly"\nhost = "laser.local"'}, "[relay] host and channel"),
    ],
)
def test_gates_in_one_process_share_nothing(tmp_path, second, shared):
    from gate_agent.__main__ import _parser, _real_configs

    first, other = _gate(tmp_path, "laser"), _gate(tmp_path, "lathe", **second)
    args = _parser().parse_args(["--config", str(first), "--config", str(other)])
    with pytest.raises(ConfigError, match=re.escape(f"gates 1 and 2 share the same {shared}")):
        _real_configs(args)


def _gate_with(name: str, **sections):
    return parse_config({"device_id": name, "secret": SECRET, "state_dir": name, **sections})


def test_tasmota_plugs_on_one_broker_are_told_apart_by_their_topic():
    from gate_agent.config import check_gates_apart

    def plug(name: str, topic: str):
        return _gate_with(name, relay={"backend": "tasmota_mqtt", "host": "mqtt", "topic": topic})

    check_gates_apart([plug("laser", "tasmota_laser"), plug("lathe", "tasmota_lathe")])
    with pytest.raises(ConfigError, match=r"share the same \[relay\] broker, topic and channel"):
        check_gates_apart([plug("laser", "tasmota_laser"), plug("lathe", "tasmota_laser")])


@pytest.mark.parametrize(
    ("first", "second", "apart"),
    [
        ({"backend": "mfrc522"}, {"backend": "mfrc522", "spi_device": 1}, True),
        ({"backend": "mfrc522"}, {"backend": "mfrc522"}, False),
        (
            {"backend": "pn532", "interface": "spi", "cs_pin": 8},
            {"backend": "pn532", "interface": "spi", "cs_pin": 7},
            True,
        ),
        ({"backend": "pn532"}, {"backend": "pn532"}, False),  # one I2C address for every PN532
        ({"backend": "pn532"}, {"backend": "mfrc522"}, True),
        (
            {"backend": "serial", "device": "/dev/ttyUSB0"},
            {"backend": "serial", "device": "/dev/ttyUSB1"},
            True,
        ),
        (
            {"backend": "evdev", "device": "/dev/input/event0"},
            {"backend": "evdev", "device": "/dev/input/event0"},
            False,
        ),
    ],
)
def test_gates_in_one_process_need_readers_wired_apart(first, second, apart):
    from gate_agent.config import check_gates_apart

    gates = [_gate_with("laser", reader=first), _gate_with("lathe", reader=second)]
    if apart:
        check_gates_apart(gates)
    else:
        with pytest.raises(ConfigError, match=r"share the same \[reader\]"):
            check_gates_apart(gates)


def test_gpio_gates_in_one_process_need_their_own_pins():
    from gate_agent.config import check_gates_apart

    def gate(name: str, pin: int):
        relay = {"backend": "gpio", "pin": pin}
        return parse_config(
            {"device_id": name, "secret": SECRET, "state_dir": name, "relay": relay}
        )

    check_gates_apart([gate("a", 17), gate("b", 22)])
    with pytest.raises(ConfigError, match=r"share the same \[relay\] pin"):
        check_gates_apart([gate("a", 17), gate("b", 17)])
