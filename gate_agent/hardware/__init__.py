"""Relay, reader, power meter, indicator and display backends, chosen by name from the config.

Each real backend imports its hardware library inside the class, so importing this package (and
running the agent with simulated hardware) needs none of them.
"""

from __future__ import annotations

from typing import cast

from gate_agent.config import (
    DisplayConfig,
    IndicatorConfig,
    PowerConfig,
    ReaderConfig,
    RelayConfig,
)
from gate_agent.interfaces import BadgeReader, Display, Indicator, PowerMeter, Relay
from gate_agent.usage import UsagePolicy


def build_relay(config: RelayConfig) -> Relay:
    if config.backend == "gpio":
        from .gpio import GpioRelay

        assert config.pin is not None, "parse_config requires a pin for the gpio backend"
        return GpioRelay(config.pin, active_high=config.active_high)
    if config.backend == "tasmota_mqtt":
        from .tasmota_mqtt import TasmotaMqttRelay

        assert config.host is not None and config.topic is not None, "parse_config checks them"
        return TasmotaMqttRelay(
            config.host,
            topic=config.topic,
            port=config.port,
            channel=config.channel if config.channel is not None else 1,
            username=config.username,
            password=config.password,
            timeout=config.timeout,
        )
    if config.backend in ("shelly", "tasmota"):
        assert config.host is not None, "parse_config requires a host for smart relays"
        from .shelly import ShellyRelay
        from .tasmota import TasmotaRelay

        cls = ShellyRelay if config.backend == "shelly" else TasmotaRelay
        return cls(
            config.host,
            channel=config.channel if config.channel is not None else 0,
            password=config.password,
            timeout=config.timeout,
        )
    from .simulated import SimulatedRelay

    return SimulatedRelay()


def build_meter(config: PowerConfig, relay: Relay) -> PowerMeter | None:
    """The power reading for `config.source`: the smart relay's own meter, a current clamp."""
    if config.source == "relay":
        if not isinstance(relay, PowerMeter):
            raise TypeError(f"{type(relay).__name__} has no power meter")
        return cast(PowerMeter, relay)
    if config.source == "ads1115":
        from .current_clamp import CurrentClamp

        return CurrentClamp.on_i2c(
            address=config.i2c_address,
            channel=config.adc_channel,
            amps_per_volt=config.amps_per_volt,
            mains_volts=config.mains_volts,
        )
    if config.source == "simulated":
        from .simulated import SimulatedMeter

        return SimulatedMeter()
    return None


def usage_policy(config: PowerConfig) -> UsagePolicy | None:
    if config.source == "none":
        return None
    return UsagePolicy(
        busy_watts=config.busy_watts,
        idle_watts=config.idle_watts,
        idle_warn_seconds=None if config.idle_minutes is None else config.idle_minutes * 60,
        idle_grace_seconds=config.idle_grace_minutes * 60,
        sample_seconds=config.sample_seconds,
        settle_seconds=config.settle_seconds,
    )


def build_reader(config: ReaderConfig) -> BadgeReader:
    if config.backend == "evdev":
        from .evdev_reader import EvdevReader

        assert config.device is not None, "parse_config requires a device for this backend"
        return EvdevReader.open(config.device, grab=config.grab)
    if config.backend == "serial":
        from .serial_reader import SerialReader

        assert config.device is not None, "parse_config requires a device for this backend"
        return SerialReader(config.device, baudrate=config.baudrate)
    if config.backend == "pn532":
        from .nfc import Pn532Reader

        return Pn532Reader.from_config(config)
    if config.backend == "mfrc522":
        from .nfc import Mfrc522Reader

        return Mfrc522Reader.from_config(config)
    from .simulated import StdinReader

    return StdinReader()


def build_indicator(config: IndicatorConfig) -> Indicator:
    if config.backend == "gpio":
        from .gpio import GpioIndicator

        assert config.pin is not None, "parse_config requires a pin for the gpio backend"
        return GpioIndicator(config.pin, active_high=config.active_high)
    from .simulated import LogIndicator

    return LogIndicator()


def build_display(config: DisplayConfig) -> Display | None:
    if config.backend == "ssd1306":
        from .oled import OledDisplay

        return OledDisplay.on_i2c(
            port=config.i2c_port,
            address=config.i2c_address,
            font=config.font,
            font_size=config.font_size,
        )
    if config.backend == "terminal":
        from .simulated import TerminalDisplay

        return TerminalDisplay()
    return None
