"""Configuration: the example file loads, and mistakes stop start-up with a clear message."""

from __future__ import annotations

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


def test_unreadable_file_names_the_file(tmp_path):
    bad = tmp_path / "gate.toml"
    bad.write_text("device_id = ")
    with pytest.raises(ConfigError, match=r"gate\.toml"):
        load_config(bad)
