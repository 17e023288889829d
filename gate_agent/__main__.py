"""Command line: `python -m gate_agent --config /etc/toolgate/gate.toml` on the Pi, or
`python -m gate_agent --simulate` for a gate in the terminal (type a badge UID, press Enter)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gate_agent.config import (
    MIN_SECRET_CHARS,
    AgentConfig,
    BrokerConfig,
    ConfigError,
    DisplayConfig,
    IndicatorConfig,
    ReaderConfig,
    RelayConfig,
    check_gates_apart,
    load_config,
)
from gate_agent.interfaces import BadgeReader, Display, PowerMeter, Relay
from gate_agent.protocol import new_device_secret
from gate_agent.protocol.fields import DEVICE_ID_RE
from gate_agent.simulator import METERED_RELAYS, SIMULATED_READERS, SIMULATED_RELAYS

SECRET_ENV = "TOOLGATE_GATE_SECRET"  # noqa: S105 - the variable's name, not a secret


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.new_secret:
        print(new_device_secret())
        return 0
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        configs = [_simulated_config(args)] if args.simulate else _real_configs(args)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    closers: list[Callable[[], None]] = []
    try:
        try:
            runners = [_runner(config, args, closers) for config in configs]
        except ConfigError as exc:
            print(f"Configuration error: {exc}", file=sys.stderr)
            return 2
        # One process, one thread per gate: each has its own broker connection and state.
        threads = [
            threading.Thread(target=r.run, args=(stop,), name=f"gate-{r.config.device_id}")
            for r in runners
        ]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(timeout=0.5)
    finally:
        stop.set()
        for close in closers:
            close()
    return 0


def _runner(
    config: AgentConfig, args: argparse.Namespace, closers: list[Callable[[], None]]
) -> Any:
    from gate_agent.hardware import (
        build_display,
        build_indicator,
        build_meter,
        build_reader,
        build_relay,
    )
    from gate_agent.hardware.simulated import TerminalDisplay
    from gate_agent.runner import Runner

    relay: Relay
    reader: BadgeReader
    meter: PowerMeter | None
    display: Display | None
    if args.simulate:
        from gate_agent.simulator import simulated_hardware

        broker = (config.broker.host, config.broker.port)
        hardware = simulated_hardware(args.relay, args.reader, on_change=_show_relay, broker=broker)
        relay, reader, meter = hardware.relay, hardware.reader, hardware.meter
        display = TerminalDisplay()
        closers.append(hardware.close)
        print(
            f"Simulated gate {config.device_id} ({args.relay} relay, {args.reader} reader): "
            "type a badge UID and press Enter, or :load WATTS, :weld, :hang (plugs).",
            flush=True,
        )
    else:
        relay = build_relay(config.relay)
        reader = build_reader(config.reader)
        meter = build_meter(config.power, relay)
        display = build_display(config.display)
    return Runner(
        config,
        relay=relay,
        reader=reader,
        indicator=build_indicator(config.indicator),
        meter=meter,
        display=display,
    )


def _show_relay(on: bool) -> None:
    print(f"RELAY {'ON ' if on else 'OFF'}", flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gate_agent", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        action="append",
        help="TOML config file; repeat it to run several gates (one per machine) in one process",
    )
    parser.add_argument("--simulate", action="store_true", help="a gate in the terminal")
    parser.add_argument(
        "--relay", default="simulated", choices=SIMULATED_RELAYS, help="--simulate: relay backend"
    )
    parser.add_argument(
        "--reader", default="stdin", choices=SIMULATED_READERS, help="--simulate: reader backend"
    )
    parser.add_argument(
        "--idle-minutes", type=float, help="--simulate: switch off after this long idle"
    )
    parser.add_argument("--device-id", help="override the config's device_id")
    parser.add_argument("--secret", help=f"device secret (better: the {SECRET_ENV} variable)")
    parser.add_argument("--host", help="MQTT broker host (simulate default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="MQTT broker port (simulate default 1883)")
    parser.add_argument("--state-dir", type=Path, help="override the config's state_dir")
    parser.add_argument("--new-secret", action="store_true", help="print a new device secret")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    return parser


def _real_configs(args: argparse.Namespace) -> list[AgentConfig]:
    if not args.config:
        raise ConfigError("--config FILE is required (or use --simulate)")
    if len(args.config) > 1 and args.device_id:
        raise ConfigError("--device-id overrides one gate's config, not several")
    configs = [_overridden(load_config(path), args) for path in args.config]
    check_gates_apart(configs)
    return configs


def _simulated_config(args: argparse.Namespace) -> AgentConfig:
    if len(args.config or ()) > 1:
        raise ConfigError("--simulate runs one gate: give at most one --config")
    if args.config:
        base = load_config(args.config[0])
    else:
        device_id = args.device_id or "sim-gate"
        secret = args.secret or os.environ.get(SECRET_ENV)
        if not secret or len(secret) < MIN_SECRET_CHARS:
            raise ConfigError(
                f"--secret or {SECRET_ENV} (at least {MIN_SECRET_CHARS} characters) is required"
            )
        state_home = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
        base = AgentConfig(
            device_id=device_id, secret=secret, state_dir=state_home / "toolgate-gate" / device_id
        )
    # The simulator never drives real hardware, whatever the config file says; it keeps the
    # file's power thresholds, reading the simulated plug's (or a settable) meter.
    source = "relay" if args.relay in METERED_RELAYS else "simulated"
    power = dataclasses.replace(base.power, source=source)
    if args.idle_minutes is not None:
        if args.idle_minutes <= 0:
            raise ConfigError("--idle-minutes must be positive")
        power = dataclasses.replace(power, idle_minutes=args.idle_minutes)
    base = dataclasses.replace(
        base,
        relay=RelayConfig(),
        reader=ReaderConfig(),
        indicator=IndicatorConfig(),
        power=power,
        display=DisplayConfig(),
    )
    return _overridden(base, args)


def _overridden(config: AgentConfig, args: argparse.Namespace) -> AgentConfig:
    changes: dict[str, Any] = {}
    if args.device_id:
        if not DEVICE_ID_RE.match(args.device_id):
            raise ConfigError(f"invalid --device-id {args.device_id!r}")
        changes["device_id"] = args.device_id
    if args.secret or os.environ.get(SECRET_ENV):
        secret = args.secret or os.environ[SECRET_ENV]
        if len(secret) < MIN_SECRET_CHARS:
            raise ConfigError(f"the device secret must be at least {MIN_SECRET_CHARS} characters")
        changes["secret"] = secret
    if args.state_dir:
        changes["state_dir"] = args.state_dir
    broker: BrokerConfig = config.broker
    if args.host:
        broker = dataclasses.replace(broker, host=args.host)
    if args.port:
        broker = dataclasses.replace(broker, port=args.port)
    return dataclasses.replace(config, broker=broker, **changes)


if __name__ == "__main__":
    sys.exit(main())
