"""Hardware backends: gpiozero relay on mock pins, keyboard-wedge and serial parsing, fakes."""

from __future__ import annotations

import io

import pytest

from gate_agent.hardware.evdev_reader import WedgeDecoder, keys_to_uids
from gate_agent.hardware.serial_reader import LineBuffer, parse_line
from gate_agent.hardware.simulated import ScriptedReader, SimulatedRelay, StdinReader
from gate_agent.interfaces import BadgeReader, Indicator, Relay

gpiozero = pytest.importorskip("gpiozero")
from gpiozero.pins.mock import MockFactory  # noqa: E402


@pytest.fixture
def factory():
    mock = MockFactory()
    yield mock
    mock.close()


@pytest.mark.parametrize(("active_high", "on_level", "off_level"), [(True, 1, 0), (False, 0, 1)])
def test_gpio_relay_pin_follows_on_and_off(factory, active_high, on_level, off_level):
    from gate_agent.hardware.gpio import GpioRelay

    relay = GpioRelay(17, active_high=active_high, pin_factory=factory)
    pin = factory.pin(17)
    assert not relay.is_on and pin.state == off_level  # starts de-energised
    relay.on()
    assert relay.is_on and pin.state == on_level
    relay.off()
    assert not relay.is_on and pin.state == off_level
    relay.on()
    relay.close()
    assert pin.state == off_level


@pytest.mark.parametrize("active_high", [True, False])
def test_gpio_relay_reads_its_pin_back(factory, active_high):
    from gate_agent.hardware.gpio import GpioRelay

    relay = GpioRelay(17, active_high=active_high, pin_factory=factory)
    assert relay.read_back() is False
    relay.on()
    assert relay.read_back() is True
    # The pin's level is what counts, not what was commanded.
    factory.pin(17).state = 0 if active_high else 1
    assert relay.read_back() is False


def test_gpio_indicator_blinks_and_clears(factory):
    from gate_agent.hardware.gpio import GpioIndicator

    indicator = GpioIndicator(27, pin_factory=factory)
    indicator.warn()
    indicator.clear()
    assert factory.pin(27).state == 0
    indicator.close()


def test_backends_satisfy_the_interfaces(factory):
    from gate_agent.hardware.gpio import GpioIndicator, GpioRelay

    assert isinstance(GpioRelay(5, pin_factory=factory), Relay)
    assert isinstance(GpioIndicator(6, pin_factory=factory), Indicator)
    assert isinstance(SimulatedRelay(), Relay)
    assert isinstance(ScriptedReader(), BadgeReader)


def _typed(text: str, enter: str = "KEY_ENTER") -> list[tuple[str, int]]:
    """Key events a wedge reader sends for `text`: down and up for every key."""
    events = []
    for char in text:
        name = {":": "KEY_SEMICOLON", " ": "KEY_SPACE"}.get(char, f"KEY_{char.upper()}")
        if char == ":":
            events.append(("KEY_LEFTSHIFT", 1))
        events += [(name, 1), (name, 0)]
        if char == ":":
            events.append(("KEY_LEFTSHIFT", 0))
    return [*events, (enter, 1), (enter, 0)]


def test_wedge_keys_decode_to_uids():
    events = _typed("0077802268") + _typed("04:a3:2b:1c", enter="KEY_KPENTER")
    assert list(keys_to_uids(events)) == ["0077802268", "04:A3:2B:1C"]


def test_wedge_ignores_key_up_repeat_and_unknown_keys_and_empty_lines():
    events = [("KEY_1", 1), ("KEY_1", 2), ("KEY_1", 0), ("KEY_F13", 1), ("KEY_ENTER", 1)]
    assert list(keys_to_uids([*events, ("KEY_ENTER", 1)])) == ["1"]


def test_evdev_reader_reads_the_uids_a_wedge_types_through_evdev():
    """The reader on evdev's own reading of kernel input events (a virtual wedge's socket)."""
    pytest.importorskip("evdev")
    from gate_agent.hardware.evdev_reader import EvdevReader
    from gate_agent.hardware.fakeinput import VirtualWedge

    wedge = VirtualWedge()
    reader = EvdevReader(wedge.device)
    try:
        assert isinstance(reader, BadgeReader)
        assert reader.read(0.05) is None
        wedge.type("04:a3:2b:1c")
        wedge.type("0077802268")
        assert reader.read(1.0) == "04:A3:2B:1C"
        assert reader.read(1.0) == "0077802268"
        assert reader.read(0.05) is None
        with pytest.raises(ValueError, match="does not type"):
            wedge.type("04#")
    finally:
        reader.close()
        wedge.close()


@pytest.mark.parametrize("grab", [True, False])
def test_an_evdev_reader_is_built_from_its_config_and_grabs_its_device(monkeypatch, grab):
    evdev = pytest.importorskip("evdev")
    from gate_agent.config import ReaderConfig
    from gate_agent.hardware import build_reader
    from gate_agent.hardware.fakeinput import VirtualWedge

    wedge, opened, grabbed = VirtualWedge(), [], []
    wedge.device.grab = lambda: grabbed.append(True)
    monkeypatch.setattr(evdev, "InputDevice", lambda path: opened.append(path) or wedge.device)
    path = "/dev/input/by-id/usb-RFID_Reader-event-kbd"
    reader = build_reader(ReaderConfig(backend="evdev", device=path, grab=grab))
    try:
        wedge.type("04A32B1C")
        assert reader.read(1.0) == "04A32B1C"
        assert opened == [path] and grabbed == ([True] if grab else [])
    finally:
        wedge.close()


def test_wedge_drops_runaway_input():
    decoder = WedgeDecoder()
    for _ in range(100):
        decoder.feed("KEY_A", 1)
    assert decoder.feed("KEY_ENTER", 1) is None
    assert [decoder.feed(key, 1) for key in ("KEY_1", "KEY_2", "KEY_ENTER")] == [None, None, "12"]


@pytest.mark.parametrize(
    ("chunks", "uids"),
    [
        ([b"04A32B1C\r\n"], ["04A32B1C"]),
        ([b"04A3", b"2B1C\n0499AA", b"BBCCDDEE\r"], ["04A32B1C", "0499AABBCCDDEE"]),
        ([b"\x020123456789\x03"], ["0123456789"]),
        ([b"\r\n\r\n"], []),
        ([b"\xff\xfe04A32B1C\n"], ["04A32B1C"]),
        ([b"x" * 200, b"04A32B1C\n"], ["04A32B1C"]),
    ],
)
def test_serial_lines_split_into_uids(chunks, uids):
    buffer = LineBuffer()
    assert [uid for chunk in chunks for uid in buffer.feed(chunk)] == uids


def test_serial_parse_line_strips_framing():
    assert parse_line(b"\x02 04a32b1c \r") == "04a32b1c"


def test_simulated_relay_records_transitions_and_reports_changes():
    seen = []
    relay = SimulatedRelay(on_change=seen.append)
    relay.off()
    relay.on()
    relay.on()
    relay.off()
    assert relay.transitions == [True, False] == seen


def test_scripted_and_stdin_readers():
    reader = ScriptedReader(["04A32B1C"])
    assert reader.read(0.01) == "04A32B1C"
    assert reader.read(0.01) is None
    stdin = StdinReader(io.StringIO("04a32b1c\n\n 0499AABBCCDDEE \n"))
    assert [stdin.read(1.0), stdin.read(1.0)] == ["04a32b1c", "0499AABBCCDDEE"]
