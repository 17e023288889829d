"""Relay, reader and indicator backends, chosen by name from the configuration.

Each real backend imports its hardware library inside the class, so importing this package (and
running the agent with simulated hardware) needs none of them.
"""

from __future__ import annotations

from gate_agent.config import IndicatorConfig, ReaderConfig, RelayConfig
from gate_agent.interfaces import BadgeReader, Indicator, Relay


def build_relay(config: RelayConfig) -> Relay:
    if config.backend == "gpio":
        from .gpio import GpioRelay

        assert config.pin is not None, "parse_config requires a pin for the gpio backend"
        return GpioRelay(config.pin, active_high=config.active_high)
    from .simulated import SimulatedRelay

    return SimulatedRelay()


def build_reader(config: ReaderConfig) -> BadgeReader:
    if config.backend == "evdev":
        from .evdev_reader import EvdevReader

        assert config.device is not None, "parse_config requires a device for this backend"
        return EvdevReader(config.device, grab=config.grab)
    if config.backend == "serial":
        from .serial_reader import SerialReader

        assert config.device is not None, "parse_config requires a device for this backend"
        return SerialReader(config.device, baudrate=config.baudrate)
    from .simulated import StdinReader

    return StdinReader()


def build_indicator(config: IndicatorConfig) -> Indicator:
    if config.backend == "gpio":
        from .gpio import GpioIndicator

        assert config.pin is not None, "parse_config requires a pin for the gpio backend"
        return GpioIndicator(config.pin, active_high=config.active_high)
    from .simulated import LogIndicator

    return LogIndicator()
