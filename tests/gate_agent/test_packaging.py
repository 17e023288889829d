"""`pip install 'toolgate[pi]'` brings a working GPIO pin driver on every Raspberry Pi OS."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def pi_requirements() -> dict[str, Requirement]:
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    return {(r := Requirement(line)).name: r for line in extras["pi"]}


@pytest.mark.parametrize("machine", ["aarch64", "armv7l", "armv6l"])
def test_the_pi_extra_installs_the_pin_driver_on_every_pi_architecture(machine):
    lgpio = pi_requirements()["lgpio"]
    assert lgpio.marker.evaluate({"sys_platform": "linux", "platform_machine": machine})


def test_the_pi_extra_leaves_the_pin_driver_off_a_pc():
    lgpio = pi_requirements()["lgpio"]
    assert not lgpio.marker.evaluate({"sys_platform": "linux", "platform_machine": "x86_64"})


HARDWARE_LIBRARIES = (
    "gpiozero",
    "lgpio",
    "evdev",
    "serial",
    "requests",
    "spidev",
    "adafruit_pn532",
    "adafruit_ads1x15",
    "adafruit_bus_device",
    "board",
    "busio",
    "digitalio",
    "luma",
)
_IMPORT_EVERYTHING = """
import importlib, pkgutil, sys
import gate_agent, gate_agent.hardware
from gate_agent.config import DisplayConfig, PowerConfig, ReaderConfig, RelayConfig
from gate_agent.hardware import build_display, build_meter, build_reader, build_relay
for module in pkgutil.walk_packages(gate_agent.__path__, "gate_agent."):
    importlib.import_module(module.name)
relay = build_relay(RelayConfig())
build_reader(ReaderConfig()), build_meter(PowerConfig(source="simulated"), relay)
build_display(DisplayConfig(backend="terminal"))
print(" ".join(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1:]))))
"""


def test_hardware_libraries_are_imported_only_by_the_backend_that_uses_them():
    """Every gate_agent module imports, and a simulated gate builds, with none of them loaded:
    a Pi installs only the libraries its config names."""
    import subprocess
    import sys

    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", _IMPORT_EVERYTHING, *HARDWARE_LIBRARIES],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
        cwd=PYPROJECT.parent,
    )
    assert done.stdout.split() == []


def test_the_gate_catalogues_are_package_data():
    """A wheel carries every compiled catalogue of the agent (`pip install` on a Pi has no
    source tree to find them in)."""
    patterns = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-data"]
    package = PYPROJECT.parent / "gate_agent"
    shipped = {path for pattern in patterns["gate_agent"] for path in package.glob(pattern)}
    assert set(package.glob("locale/*/LC_MESSAGES/*.mo")) <= shipped
    assert shipped
