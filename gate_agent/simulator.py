"""The hardware of `python -m gate_agent --simulate`: any relay and reader backend, driven from the
terminal. `--relay shelly` or `tasmota` runs the real backend against a twin of the plug on a
local port (with a power meter), `--relay tasmota_mqtt` against a twin on the gate's broker;
`--relay gpio` drives gpiozero's mock pins. `--reader pn532` runs the real PN532 driver on a
simulated I2C bus, `--reader mfrc522` the MFRC522 driver on a simulated chip, `--reader serial`
the serial reader on a pseudo-terminal, `--reader evdev` the keyboard-wedge reader on evdev
events from a virtual wedge. Each line typed is a badge UID (held on the NFC reader for a
moment), or a command:

    :load 800    the machine draws 800 W while powered (0: idle)
    :weld        the relay's contact welds shut: power flows with the relay off (:unweld)
    :hang        the plug stops answering (:resume)
"""

from __future__ import annotations

import logging
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from gate_agent.badges import normalize_badge_uid
from gate_agent.config import ConfigError
from gate_agent.interfaces import BadgeReader, PowerMeter, Relay

from .hardware.simulated import ScriptedReader, SimulatedMeter, SimulatedRelay

if TYPE_CHECKING:
    from .hardware.shelly import ShellyRelay
    from .hardware.tasmota import TasmotaRelay
    from .hardware.tasmota_mqtt import TasmotaMqttRelay
    from .hardware.twins import ShellyTwin, TasmotaMqttTwin, TasmotaTwin

log = logging.getLogger(__name__)
SIMULATED_RELAYS = ("simulated", "gpio", "shelly", "tasmota", "tasmota_mqtt")
SIMULATED_READERS = ("stdin", "serial", "evdev", "pn532", "mfrc522")
# The backends whose twin meters the power the machine draws, like the plug it stands for.
METERED_RELAYS = ("shelly", "tasmota", "tasmota_mqtt")
CARD_ON_READER_SECONDS = 1.5


@dataclass
class SimulatedHardware:
    relay: Relay
    reader: BadgeReader
    meter: PowerMeter | None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            close()


def simulated_hardware(
    relay_backend: str,
    reader_backend: str,
    *,
    on_change: Callable[[bool], None] | None = None,
    stream: TextIO | None = None,
    broker: tuple[str, int] = ("127.0.0.1", 1883),
) -> SimulatedHardware:
    """Build the relay, meter and reader, and start reading the terminal into them. `broker`
    (host, port) is where a `tasmota_mqtt` twin and its relay meet: the gate's broker."""
    commands: dict[str, Callable[[str], None]] = {}
    closers: list[Callable[[], None]] = []
    relay: Relay
    meter: PowerMeter
    fake_meter: SimulatedMeter | None = None
    if relay_backend in METERED_RELAYS:
        twin, smart = _plug(relay_backend, broker, closers)
        relay, meter = smart, smart
        commands.update(
            load=lambda arg: setattr(twin, "load_watts", float(arg or 0)),
            weld=lambda arg: setattr(twin, "welded", True),
            unweld=lambda arg: setattr(twin, "welded", False),
            hang=lambda arg: twin.hang(),
            resume=lambda arg: twin.resume(),
        )
    elif relay_backend == "gpio":
        from gpiozero.pins.mock import MockFactory

        from .hardware.gpio import GpioRelay

        pins = MockFactory()
        closers.append(pins.close)
        gpio = GpioRelay(17, active_high=False, pin_factory=pins)
        relay, fake_meter = gpio, SimulatedMeter()
        meter = fake_meter
        print("Simulated GPIO relay on mock pin 17 (active low)", flush=True)
    else:
        simulated, fake_meter = SimulatedRelay(on_change=on_change), SimulatedMeter()
        relay, meter = simulated, fake_meter

    if fake_meter is not None:
        settable = fake_meter

        def load(arg: str) -> None:
            settable.value = float(arg or 0)

        commands["load"] = load
    reader: BadgeReader
    badge: Callable[[str], None]  # what a typed UID does: a card placed, a wedge typing it
    if reader_backend == "pn532":
        from .hardware.fakebus import FakeI2C, FakePn532
        from .hardware.nfc import Pn532Reader

        bus, chip = FakeI2C(), FakePn532()
        bus.attach(0x24, chip)
        reader = Pn532Reader.on_i2c(bus)

        def place(uid: str) -> None:
            chip.place(bytes.fromhex(normalize_badge_uid(uid)))
            threading.Timer(CARD_ON_READER_SECONDS, chip.place, args=(None,)).start()

        badge = place
    elif reader_backend == "serial":
        import os

        from .hardware.serial_reader import SerialReader

        # A pseudo-terminal pair: the reader opens one end like a USB-serial port.
        writer, port = os.openpty()
        reader = SerialReader(os.ttyname(port))

        def close_pty() -> None:
            os.close(writer)
            os.close(port)

        closers.append(close_pty)

        def send(uid: str) -> None:
            os.write(writer, b"\x02" + uid.encode() + b"\r\n")  # STX ... CR LF, as EM4100 readers

        badge = send
    elif reader_backend == "evdev":
        from .hardware.evdev_reader import EvdevReader
        from .hardware.fakeinput import VirtualWedge

        wedge = VirtualWedge()
        closers.append(wedge.close)
        reader = EvdevReader(wedge.device)
        badge = wedge.type
    elif reader_backend == "mfrc522":
        from .hardware.mfrc522 import FakeMfrc522, Mfrc522
        from .hardware.nfc import Mfrc522Reader

        rc522 = FakeMfrc522()
        reader = Mfrc522Reader(Mfrc522(rc522))

        def hold(uid: str) -> None:
            rc522.place(bytes.fromhex(normalize_badge_uid(uid)))
            threading.Timer(CARD_ON_READER_SECONDS, rc522.place, args=(None,)).start()

        badge = hold
    else:
        scripted = ScriptedReader()
        reader, badge = scripted, scripted.scan
    threading.Thread(
        target=_pump, args=(stream or sys.stdin, commands, badge), name="simulator", daemon=True
    ).start()
    return SimulatedHardware(relay, reader, meter, closers)


def _plug(
    backend: str, broker: tuple[str, int], closers: list[Callable[[], None]]
) -> tuple[
    ShellyTwin | TasmotaTwin | TasmotaMqttTwin, ShellyRelay | TasmotaRelay | TasmotaMqttRelay
]:
    """A twin of the plug, and the real backend driving it."""
    from .hardware.shelly import ShellyRelay
    from .hardware.tasmota import TasmotaRelay
    from .hardware.twins import ShellyTwin, TasmotaMqttTwin, TasmotaTwin

    if backend == "tasmota_mqtt":
        from .hardware.tasmota_mqtt import TasmotaMqttRelay

        host, port = broker
        topic = f"toolgate_sim_{uuid.uuid4().hex[:6]}"
        try:
            mqtt_twin = TasmotaMqttTwin(host=host, port=port, topic=topic)
        except (OSError, RuntimeError) as exc:
            raise ConfigError(f"the plug's twin found no broker at {host}:{port}: {exc}") from None
        closers.append(mqtt_twin.close)
        mqtt_relay = TasmotaMqttRelay(host, port=port, topic=topic, timeout=1.0)
        closers.append(mqtt_relay.close)
        print(f"Simulated Tasmota plug on the broker at {host}:{port}, topic {topic}", flush=True)
        return mqtt_twin, mqtt_relay
    twin = ShellyTwin() if backend == "shelly" else TasmotaTwin()
    closers.append(twin.close)
    print(f"Simulated {backend} plug at http://{twin.host}", flush=True)
    if backend == "shelly":
        return twin, ShellyRelay(twin.host, timeout=1.0)
    return twin, TasmotaRelay(twin.host, timeout=1.0)


def _pump(
    stream: TextIO, commands: dict[str, Callable[[str], None]], badge: Callable[[str], None]
) -> None:
    for raw in stream:
        line = raw.strip()
        if not line:
            continue
        if not line.startswith(":"):
            try:
                badge(line)
            except ValueError:
                print(f"Not a UID the simulated reader takes: {line!r}", flush=True)
            continue
        name, _, arg = line[1:].partition(" ")
        command = commands.get(name)
        if command is None:
            print(f"Commands: {', '.join(':' + c for c in sorted(commands))}", flush=True)
            continue
        try:
            command(arg.strip())
        except ValueError as exc:
            print(f":{name}: {exc}", flush=True)
