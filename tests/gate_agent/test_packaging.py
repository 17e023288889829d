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


def test_the_gate_catalogues_are_package_data():
    """A wheel carries every compiled catalogue of the agent (`pip install` on a Pi has no
    source tree to find them in)."""
    patterns = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-data"]
    package = PYPROJECT.parent / "gate_agent"
    shipped = {path for pattern in patterns["gate_agent"] for path in package.glob(pattern)}
    assert set(package.glob("locale/*/LC_MESSAGES/*.mo")) <= shipped
    assert shipped
