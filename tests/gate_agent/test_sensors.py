"""The PN532 and ADS1115 drivers (the real Adafruit libraries) on a simulated I2C bus, card
presence (one scan per card placed), and the SSD1306 display on luma's dummy device."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate_agent.badges import normalize_badge_uid
from gate_agent.config import PN532_INTERFACES
from gate_agent.hardware.fakebus import (
    FakeAds1115,
    FakeI2C,
    FakePin,
    FakePn532,
    FakeSPI,
    FakeUart,
    ct_signal,
)
from gate_agent.hardware.nfc import CardPresence, PollingReader
from gate_agent.interfaces import BadgeReader, Display, PowerMeter, SensorError

from .conftest import FakeClock

pytest.importorskip("adafruit_pn532")
pytest.importorskip("adafruit_ads1x15")

CARD = bytes.fromhex("04a32b1c")
SEVEN_BYTE = bytes.fromhex("04112233445566")


def _pn532_on(interface: str):
    from gate_agent.hardware.nfc import Pn532Reader

    chip = FakePn532()
    if interface == "spi":
        chip_select = FakePin()
        return Pn532Reader.on_spi(FakeSPI(chip, chip_select), chip_select), chip
    if interface == "uart":
        return Pn532Reader.on_uart(FakeUart(chip)), chip
    bus = FakeI2C()
    bus.attach(0x24, chip)
    return Pn532Reader.on_i2c(bus), chip


@pytest.fixture
def pn532():
    return _pn532_on("i2c")


@pytest.mark.parametrize("interface", PN532_INTERFACES)
def test_pn532_on_each_interface_reads_a_card_held_on_it_once(interface):
    """The Adafruit driver's I2C, SPI (bits reversed, chip select) and UART (wake-up preamble)
    framings, each on its fake bus."""
    reader, chip = _pn532_on(interface)
    assert reader.read(0.05) is None
    chip.place(SEVEN_BYTE)
    assert reader.read(0.5) == "04112233445566"
    assert reader.read(0.2) is None  # still lying there
    assert {0x02, 0x14} <= set(chip.commands[:3])  # firmware version, SAM configuration
    assert chip.commands.count(0x4A) >= 2  # polled again, not reported again


def test_pn532_reads_the_uid_in_the_canonical_form(pn532):
    reader, chip = pn532
    assert isinstance(reader, BadgeReader)
    assert reader.read(0.05) is None
    chip.place(SEVEN_BYTE)
    uid = reader.read(0.5)
    assert uid == "04112233445566" == normalize_badge_uid(uid)


def test_pn532_configures_the_chip_and_polls_for_passive_targets(pn532):
    reader, chip = pn532
    chip.place(CARD)
    reader.read(0.5)
    assert {0x02, 0x14} <= set(chip.commands[:3])  # firmware version, SAM configuration
    assert chip.commands[-1] == 0x4A  # InListPassiveTarget


def test_a_card_held_on_the_pn532_is_read_once(pn532):
    reader, chip = pn532
    chip.place(CARD)
    assert reader.read(0.5) == "04A32B1C"
    polls = chip.commands.count(0x4A)
    assert reader.read(0.3) is None  # still lying there
    assert chip.commands.count(0x4A) > polls  # it was polled again, and not reported


def test_an_unplugged_pn532_raises_for_the_runner_to_log_and_retry(pn532, monkeypatch):
    reader, chip = pn532
    chip.broken = True
    assert reader.read(0.05) is None  # the driver reads bus errors as "no card" ...
    monkeypatch.setattr(reader, "_next_health", 0.0)
    with pytest.raises(RuntimeError, match="detect the PN532"):
        reader.read(0.05)  # ... so the reader asks the chip itself now and then


def test_card_presence_reports_a_card_once_until_it_has_been_away():
    clock = FakeClock(0)
    presence = CardPresence(release_seconds=1.0, clock=clock)
    assert presence.seen("A1") == "A1"
    for _ in range(10):
        clock.advance(0.1)
        assert presence.seen("A1") is None
    clock.advance(0.1)
    assert presence.seen(None) is None
    clock.advance(0.8)
    assert presence.seen(None) is None  # away 0.9 s only
    assert presence.seen("A1") is None
    clock.advance(1.0)
    assert presence.seen(None) is None  # away 1.0 s: released
    assert presence.seen("A1") == "A1"
    assert presence.seen("B2") == "B2"  # another card at once


def test_polling_reader_waits_up_to_the_timeout():
    clock = FakeClock(0)
    polls: list[float] = []

    def poll(timeout: float) -> bytes | None:
        polls.append(timeout)
        clock.advance(timeout)
        return None

    reader = PollingReader(poll, clock=clock)
    assert reader.read(0.35) is None
    assert sum(polls) == pytest.approx(0.35)
    assert max(polls) <= 0.1


def _clamp(amps):
    from gate_agent.hardware.current_clamp import CurrentClamp

    bus = FakeI2C()
    adc = FakeAds1115({1: ct_signal(lambda: amps[0], amps_per_volt=30.0)})
    bus.attach(0x49, adc)
    clamp = CurrentClamp.on_i2c(bus, address=0x49, channel=1, amps_per_volt=30, mains_volts=230)
    return clamp, adc


def test_current_clamp_reads_rms_amps_and_watts_through_the_ads1115():
    amps = [4.0]
    clamp, adc = _clamp(amps)
    assert isinstance(clamp, PowerMeter)
    assert clamp.amps() == pytest.approx(4.0, rel=0.03)
    assert clamp.watts() == pytest.approx(920, rel=0.03)
    assert adc.conversions >= 2 * 96
    amps[0] = 0.0
    assert clamp.watts() == pytest.approx(0.0, abs=1.0)


def test_current_clamp_reads_only_its_channel():
    clamp, adc = _clamp([4.0])
    adc.signals = {0: adc.signals[1]}
    assert clamp.watts() == pytest.approx(0.0, abs=1.0)


def test_current_clamp_bus_error_is_a_sensor_error():
    clamp, adc = _clamp([1.0])

    def broken(n: int) -> float:
        raise OSError(121, "Remote I/O error")

    adc.signals = {1: broken}
    with pytest.raises(SensorError):
        clamp.watts()


def test_oled_shows_the_line_wrapped():
    pytest.importorskip("luma.core")
    from luma.core.device import dummy

    from gate_agent.hardware.oled import OledDisplay

    device = dummy(width=128, height=64, mode="1")
    display = OledDisplay(device)
    assert isinstance(display, Display)
    display.show("Ada Lovelace: on until 22:00")
    assert display.rows == ["Ada Lovelace: on", "until 22:00"]
    assert device.image.getbbox() is not None  # pixels lit
    display.show("x " * 200)
    assert len(display.rows) == 6  # what fits on 64 pixels


def test_an_ssd1306_is_built_from_its_config_on_its_i2c_port(monkeypatch):
    """luma's real SSD1306 driver, its I2C interface stood in for by luma's own `noop` one."""
    pytest.importorskip("luma.oled")
    import luma.core.interface.serial as luma_serial

    from gate_agent.config import DisplayConfig
    from gate_agent.hardware import build_display

    opened = []

    def i2c(*, port, address):
        opened.append((port, address))
        return luma_serial.noop()

    monkeypatch.setattr(luma_serial, "i2c", i2c)
    display = build_display(DisplayConfig(backend="ssd1306", i2c_port=1, i2c_address=0x3D))
    assert opened == [(1, 0x3D)]
    display.show("Extended: on until 22:30")
    assert display.rows == ["Extended: on until", "22:30"]


NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")


@pytest.mark.skipif(not NANUM.is_file(), reason="needs Debian's fonts-nanum")
def test_oled_shows_korean_in_a_font_that_has_hangul():
    """Korean wraps by measured width (a syllable is about two Latin letters wide) and lights
    pixels: the built-in font would draw nothing for Hangul."""
    pytest.importorskip("luma.core")
    from luma.core.device import dummy

    from gate_agent.hardware.oled import OledDisplay

    device = dummy(width=128, height=64, mode="1")
    display = OledDisplay(device, font=NANUM, font_size=12)
    display.show("Ada 님: 22:00까지 켜짐 (오프라인)")
    assert display.rows == ["Ada 님: 22:00까지 켜짐", "(오프라인)"]
    assert device.image.getbbox() is not None
    display.show("거부: 이 장비에 대한 인증이 없습니다. 먼저 안전 교육을 받아 주세요.")
    assert display.rows == [
        "거부: 이 장비에 대한",
        "인증이 없습니다. 먼저",
        "안전 교육을 받아 주세요.",
    ]


# -- MFRC522 over SPI (our driver; the fake speaks the chip's register protocol) ----------------


@pytest.fixture
def rc522():
    from gate_agent.hardware.mfrc522 import FakeMfrc522, Mfrc522
    from gate_agent.hardware.nfc import Mfrc522Reader

    chip = FakeMfrc522()
    return Mfrc522Reader(Mfrc522(chip)), chip


@pytest.mark.parametrize("uid", ["04A32B1C", "04112233445566", "04112233445566778899"])
def test_mfrc522_reads_4_7_and_10_byte_uids(rc522, uid):
    reader, chip = rc522
    assert isinstance(reader, BadgeReader)
    assert reader.read(0.05) is None
    chip.place(bytes.fromhex(uid))
    assert reader.read(0.5) == uid == normalize_badge_uid(uid)


def test_mfrc522_speaks_iso14443a_and_halts_the_card(rc522):
    from gate_agent.hardware.mfrc522 import crc_a

    reader, chip = rc522
    chip.place(CARD)
    reader.read(0.5)
    select = bytes([0x93, 0x70, *CARD, 0x04 ^ 0xA3 ^ 0x2B ^ 0x1C])
    assert chip.frames[:4] == [
        bytes([0x26]),  # REQA
        bytes([0x93, 0x20]),  # anticollision, cascade level 1
        select + crc_a(select),
        bytes([0x50, 0x00, 0x57, 0xCD]),  # HLTA with its CRC_A
    ]


def test_a_card_held_on_the_mfrc522_is_read_once(rc522):
    reader, chip = rc522
    chip.place(CARD)
    assert reader.read(0.5) == "04A32B1C"
    assert reader.read(0.3) is None
    chip.place(None)
    chip.place(CARD)  # taken away and put back: a new card in the field ...
    assert reader.read(0.3) is None  # ... within release_seconds: still the same scan


def test_mfrc522_refuses_a_device_that_is_not_one():
    from gate_agent.hardware.mfrc522 import FakeMfrc522, Mfrc522, Mfrc522Error

    with pytest.raises(Mfrc522Error, match="version register 0x00"):
        Mfrc522(FakeMfrc522(version=0x00))


def test_mfrc522_ignores_a_corrupted_answer(rc522, monkeypatch):
    reader, chip = rc522
    chip.place(CARD)
    original = chip._card_answer

    def noisy(frame, last_bits):
        answer = original(frame, last_bits)
        if frame == bytes([0x93, 0x20]):
            return answer[:4] + bytes([answer[4] ^ 0xFF])  # wrong BCC
        return answer

    monkeypatch.setattr(chip, "_card_answer", noisy)
    assert reader.read(0.1) is None


# -- from the config: the boards' own modules stood in for by the fakes above -------------------


@pytest.mark.parametrize("interface", PN532_INTERFACES)
def test_a_pn532_is_built_from_its_config_on_each_interface(interface, monkeypatch):
    """`build_reader` opens the bus the config names: Blinka's board pins and busio bus (I2C,
    SPI with the chip select on `cs_pin`) or the serial port."""
    import sys
    import types

    from gate_agent.config import ReaderConfig
    from gate_agent.hardware import build_reader

    chip, opened = FakePn532(), []
    chip_select = FakePin()

    def i2c(scl, sda):
        opened.append(("i2c", scl, sda))
        bus = FakeI2C()
        bus.attach(0x24, chip)
        return bus

    def spi(sck, mosi, miso):
        opened.append(("spi", sck, mosi, miso))
        return FakeSPI(chip, chip_select)

    def pin(name):
        opened.append(("cs", name))
        return chip_select

    def uart(device, *, baudrate, timeout):
        opened.append(("uart", device, baudrate))
        return FakeUart(chip)

    board = types.SimpleNamespace(
        SCL="SCL", SDA="SDA", SCK="SCK", MOSI="MOSI", MISO="MISO", D8="D8"
    )
    monkeypatch.setitem(sys.modules, "board", board)
    monkeypatch.setitem(sys.modules, "busio", types.SimpleNamespace(I2C=i2c, SPI=spi))
    monkeypatch.setitem(sys.modules, "digitalio", types.SimpleNamespace(DigitalInOut=pin))
    monkeypatch.setitem(sys.modules, "serial", types.SimpleNamespace(Serial=uart))
    config = ReaderConfig(
        backend="pn532", interface=interface, cs_pin=8, device="/dev/serial0", baudrate=115200
    )
    reader = build_reader(config)
    chip.place(CARD)
    assert reader.read(0.5) == "04A32B1C"
    assert (
        opened
        == {
            "i2c": [("i2c", "SCL", "SDA")],
            "spi": [("spi", "SCK", "MOSI", "MISO"), ("cs", "D8")],
            "uart": [("uart", "/dev/serial0", 115200)],
        }[interface]
    )


def test_an_mfrc522_is_built_from_its_config_on_its_spidev_device(monkeypatch):
    import sys
    import types

    from gate_agent.config import ReaderConfig
    from gate_agent.hardware import build_reader
    from gate_agent.hardware.mfrc522 import FakeMfrc522

    devices = []

    class SpiDev(FakeMfrc522):
        """spidev's SpiDev, with the fake chip on its other end."""

        def open(self, bus: int, device: int) -> None:
            self.opened, self.closed = (bus, device), False
            devices.append(self)

        def close(self) -> None:
            self.closed = True

    monkeypatch.setitem(sys.modules, "spidev", types.SimpleNamespace(SpiDev=SpiDev))
    reader = build_reader(ReaderConfig(backend="mfrc522", spi_bus=0, spi_device=1))
    [spi] = devices
    spi.place(CARD)
    assert reader.read(0.5) == "04A32B1C"
    assert spi.opened == (0, 1) and spi.max_speed_hz == 1_000_000
    reader.close()
    assert spi.closed
