"""Revocation-to-relay-off latency with the broker up, and delivery after a broker outage.

    .venv/bin/python bench/outbox.py [--revocations 150] [--gates 5] [--outage 30] [--queued 200]

On PostgreSQL database `toolgate_bench_outbox` (recreated), its own Mosquitto on a free loopback
port (persistence and `set_tcp_nodelay true`, as the README's production broker), one bridge as
its own process (`manage.py gate_bridge`), and `--gates` real gate agents (`gate_agent.runner.
Runner`, the code the Pi runs) in this process, each with a `SimulatedRelay` whose transitions are
timestamped.

1. Broker up, `--revocations` times, round the gates: a fresh member with a booking scans at a
   gate (a real scan: request, bridge decision, signed reply, relay on); then the member loses
   access through a real service, in turn: membership cancelled (`membership_set_status`),
   certification revoked (`certification_revoke`), booking cancelled by staff
   (`booking_cancel`), badge disabled (`badge_disable`), emergency stop (`gate_emergency_stop`).
   Revocation-to-relay-off is from just before the service call to the simulated relay's off
   transition: the transaction with its outbox rows, NOTIFY, the bridge's claim and publish, the
   broker, the agent's checks and the relay.
2. Broker down for `--outage` seconds: `--queued` switch-offs and allow-list refreshes are queued
   round the gates (`access.gates`, each in its own transaction) while Mosquitto is stopped; then
   it starts again, and the bench waits until every outbox row queued during the outage is
   acknowledged by its gate (or superseded by a newer allow-list that was). It prints that time,
   rows by final state, and whether each gate applied its commands in the order they were queued
   (first arrival of each command id at the agent, against the outbox's order).

`bench/soak.py` uses this module's gates and bridge processes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_PG_NAME", "toolgate_bench_outbox")
MOSQUITTO_CONFIG = "allow_anonymous true\nset_tcp_nodelay true\n"
KINDS = ("membership", "certification", "booking", "badge", "emergency_stop")
SETTLED = ("acknowledged", "superseded")


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    """Poll `condition` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary_ms(samples: list[float]) -> str:
    """p50 / p99 / max / n of samples in seconds, printed in milliseconds."""
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    return (
        f"p50 {percentile(ordered, 0.5) * 1000:.0f} ms, p99 {percentile(ordered, 0.99) * 1000:.0f}"
        f" ms, max {ordered[-1] * 1000:.0f} ms, n {len(ordered)}"
    )


class BenchGate:
    """A real gate agent in this process: the Pi's `Runner` with a simulated relay whose
    transitions, connections and received site messages are recorded with their times."""

    def __init__(self, device, state_dir: Path, port: int, *, request_timeout: float = 2.0):
        from gate_agent.config import AgentConfig, BrokerConfig
        from gate_agent.hardware.simulated import RecordingIndicator, ScriptedReader, SimulatedRelay
        from gate_agent.runner import Runner

        self.device_id, self.secret = device.device_id, device.secret
        self.machine_id = device.machine_id
        self.state_dir = state_dir
        # (time.time(), time.perf_counter(), relay on?) for each transition.
        self.transitions: list[tuple[float, float, bool]] = []
        self.connections: list[tuple[float, bool]] = []  # (time.time(), connected?)
        self.received: list[tuple[float, str, bytes]] = []  # (time.time(), topic, payload)
        self.acks: list[tuple[float, dict]] = []  # (time.time(), the ack) the agent published
        self.changed = threading.Condition()
        self.relay = SimulatedRelay(on_change=self._relay_changed)
        self.reader = ScriptedReader()
        config = AgentConfig(
            device_id=device.device_id,
            secret=device.secret,
            state_dir=state_dir,
            request_timeout=request_timeout,
            broker=BrokerConfig(port=port),
        )
        self.runner = Runner(
            config, relay=self.relay, reader=self.reader, indicator=RecordingIndicator()
        )
        client = self.runner.client
        on_connect, on_disconnect = client.on_connect, client.on_disconnect
        on_message = client.on_message

        def connected(*args) -> None:
            self.connections.append((time.time(), True))
            on_connect(*args)

        def disconnected(*args) -> None:
            self.connections.append((time.time(), False))
            on_disconnect(*args)

        def message(client, userdata, msg) -> None:
            self.received.append((time.time(), msg.topic, bytes(msg.payload)))
            on_message(client, userdata, msg)

        client.on_connect, client.on_disconnect = connected, disconnected
        client.on_message = message
        publish = client.publish

        def published(topic, payload=None, *args, **kwargs):
            if topic.endswith("/ack"):
                self.acks.append((time.time(), json.loads(payload)))
            return publish(topic, payload, *args, **kwargs)

        client.publish = published
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.runner.run, args=(self._stop,), daemon=True)

    def _relay_changed(self, on: bool) -> None:
        with self.changed:
            self.transitions.append((time.time(), time.perf_counter(), on))
            self.changed.notify_all()

    def start(self) -> BenchGate:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def agent(self):
        return self.runner.agent

    @property
    def connected(self) -> bool:
        return self.runner.transport.connected

    def wait_relay(self, on: bool, timeout: float) -> tuple[float, float] | None:
        """The (time, perf_counter) of the relay reaching `on`, or None after `timeout`."""
        with self.changed:
            if not self.changed.wait_for(lambda: self.relay.is_on == on, timeout=timeout):
                return None
            wall, perf, _ = self.transitions[-1]
            return wall, perf

    def first_arrivals(self, kind: str) -> list[tuple[float, dict]]:
        """Each distinct site message of `kind` (command, allowlist) in the order it first
        arrived: command ids and allow-list versions, with their arrival times."""
        seen, first = set(), []
        for at, topic, payload in list(self.received):
            if not topic.endswith("/" + kind):
                continue
            data = json.loads(payload)
            key = data.get("command_id") or data.get("version")
            if key not in seen:
                seen.add(key)
                first.append((at, data))
        return first

    def trace(self, kind: str, key) -> tuple[float | None, float | None]:
        """When the agent first received the command id or allow-list version `key` (`kind`
        command or allowlist) and when it first acknowledged it (or a newer list)."""
        arrived = next(
            (
                at
                for at, data in self.first_arrivals(kind)
                if data.get("command_id", data.get("version")) == key
            ),
            None,
        )
        if kind == "command":
            acked = (at for at, ack in self.acks if key in ack["command_ids"])
        else:
            acked = (at for at, ack in self.acks if (ack["allowlist_version"] or 0) >= key)
        return arrived, next(acked, None)

    def journal(self) -> list[dict]:
        """Every event this gate journaled (events.jsonl), in order."""
        path = self.state_dir / "events.jsonl"
        if not path.exists():
            return []
        lines = (json.loads(line) for line in path.read_bytes().splitlines() if line.strip())
        return [line["event"] for line in lines if "event" in line]


class BridgeProcess:
    """`manage.py gate_bridge` in its own process, as deployed; its log kept in a file."""

    CONNECTED = re.compile(r"^(\S+ \S+) INFO access\.bridge: Bridge (\S+) connected")

    def __init__(self, client_id: str, log_path: Path, *, refresh_seconds: int = 3600) -> None:
        self.client_id, self.log_path = client_id, log_path
        self.env = os.environ | {
            "GATE_ALLOWLIST_REFRESH_SECONDS": str(refresh_seconds),
            "LOG_LEVEL": "INFO",
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> BridgeProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, this project's manage.py
            [sys.executable, str(ROOT / "manage.py"), "gate_bridge", "--client-id", self.client_id],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def kill(self) -> None:
        """SIGKILL: no clean disconnect, whatever it had claimed or half-published."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def connections(self) -> list[tuple[float, str]]:
        """(time.time(), MQTT client id) of each (re)connection of its two connections (the
        live one and `<client id>-events`), from its log."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            match = self.CONNECTED.match(line)
            if match:
                stamp, millis = match.group(1).split(",")
                at = time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")) + int(millis) / 1000
                found.append((at, match.group(2)))
        return found

    def up_after(self, moment: float) -> float | None:
        """When both of its connections had connected again after `moment`."""
        firsts = {}
        for at, client in self.connections():
            if at >= moment:
                firsts.setdefault(client, at)
        return max(firsts.values()) if len(firsts) == 2 else None

    def problems(self) -> list[str]:
        """ERROR and CRITICAL lines and tracebacks of its log."""
        return [
            line
            for line in self.log_path.read_text(errors="replace").splitlines()
            if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
        ]


def bench_site(*, machines: int, members: int, prefix: str):
    """A staff superuser, `machines` machines needing one certification, each with a registered
    gate, and `members` members allowed on them (paid, waiver, badge, certified); no bookings.
    Machines book on a 5-minute grid without quotas, so a bench can book and extend freely."""
    import _django

    from access.devices import gate_device_register
    from equipment.models import Machine
    from membership.models import User
    from training.models import Certification, MemberCertification

    staff = User.objects.create_superuser(email=f"staff@{prefix}.bench")
    safety = Certification.objects.create(name=f"{prefix} safety", slug=f"{prefix}-safety")
    devices = []
    for index in range(machines):
        machine = Machine.objects.create(
            name=f"{prefix} machine {index}",
            slug=f"{prefix}-machine-{index}",
            required_certification=safety,
            slot_minutes=5,
            min_minutes=5,
            max_minutes=240,
            weekly_hours_per_member=0,
            daily_bookings_per_member=0,
        )
        devices.append(gate_device_register(machine=machine, device_id=f"{prefix}-{index}").device)
    people = _django.ready_members(members, prefix=prefix)
    MemberCertification.objects.bulk_create(
        MemberCertification(member=member, certification=safety, granted_by=staff)
        for member in people
    )
    return staff, devices, people


def start_gates(devices, directory: Path, port: int, bridges, **options) -> list[BenchGate]:
    gates = [
        BenchGate(device, directory / f"gate-{device.device_id}", port, **options).start()
        for device in devices
    ]
    # A gate's first allow-list shows the whole path works: gate online, bridge up, outbox sent.
    for gate in gates:
        if not wait_for(lambda gate=gate: gate.agent.allowlist is not None, 60):
            for bridge in bridges:
                print(bridge.log_path.read_text(errors="replace")[-3000:])
            sys.exit(f"gate {gate.device_id} got no allow-list from the bridge")
    return gates


def quiet_logs() -> None:
    """The agents log every switch-off as a warning: a bench run would print thousands."""
    import logging

    for name in ("gate_agent", "paho"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--revocations", type=int, default=150)
    parser.add_argument("--gates", type=int, default=5)
    parser.add_argument("--outage", type=float, default=30.0, help="broker outage, seconds")
    parser.add_argument("--queued", type=int, default=200, help="messages queued in the outage")
    args = parser.parse_args()

    from tests.access.mosquitto import Mosquitto

    with tempfile.TemporaryDirectory() as directory:
        broker = Mosquitto(Path(directory), extra_config=MOSQUITTO_CONFIG).start()
        os.environ["GATE_BROKER_URL"] = broker.url
        bridge = None
        gates: list[BenchGate] = []
        try:
            import _django

            _django.setup("postgres")
            quiet_logs()
            staff, devices, people = bench_site(
                machines=args.gates, members=args.revocations, prefix="outbox"
            )
            bridge = BridgeProcess("bench-outbox-bridge", Path(directory) / "bridge.log").start()
            gates = start_gates(devices, Path(directory), broker.port, [bridge])
            started = time.monotonic()
            latencies, refused = revocations(gates, devices, people, staff)
            print(
                f"Revocation to relay off, broker up, {len(gates)} gates, one bridge "
                f"({time.monotonic() - started:.0f} s)"
            )
            for kind in KINDS:
                print(f"  {kind:<15} {summary_ms(latencies[kind])}")
            every = [sample for samples in latencies.values() for sample in samples]
            print(f"  {'all':<15} {summary_ms(every)} (target < 1,000 ms)")
            if refused:
                print(f"  scans not switched on: {refused}")
            outage(gates, devices, broker, bridge, seconds=args.outage, queued=args.queued)
            for line in bridge.problems():
                print(f"  bridge log: {line}")
        finally:
            for gate in gates:
                gate.stop()
            if bridge:
                bridge.stop()
            broker.stop()


def revocations(gates, devices, people, staff) -> tuple[dict[str, list[float]], list[str]]:
    """One scan and one revocation per member, round the gates; seconds to relay off, by kind."""
    from django.utils import timezone

    from access.gates import gate_emergency_clear, gate_emergency_stop
    from access.models import AccessEvent, UsageSession
    from bookings.models import Booking, BookingState
    from bookings.services import booking_cancel
    from membership.models import ChangeCause, MembershipStatus
    from membership.services import badge_disable, membership_set_status
    from training.services import certification_revoke

    def revoke(kind: str, member, booking, machine) -> None:
        if kind == "membership":
            membership_set_status(
                membership=member.membership,
                status=MembershipStatus.CANCELED,
                reason="Bench: chargeback",
                cause=ChangeCause.STAFF,
                actor=staff,
            )
        elif kind == "certification":
            certification_revoke(
                grant=member.certifications.get(), reason="Bench: incident", actor=staff
            )
        elif kind == "booking":
            booking_cancel(booking=booking, actor=staff, reason="Bench: class")
        elif kind == "badge":
            badge_disable(badge=member.badges.get(), reason="Bench: lost", actor=staff)
        else:
            gate_emergency_stop(machine=machine, actor=staff)

    latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
    refused = []
    for index, member in enumerate(people):
        gate, device = gates[index % len(gates)], devices[index % len(gates)]
        machine, kind = device.machine, KINDS[index % len(KINDS)]
        now = timezone.now()
        booking = Booking.objects.create(
            machine=machine,
            member=member,
            start=now - timedelta(minutes=1),
            end=now + timedelta(hours=1),
            blocked_until=now + timedelta(hours=1),
            state=BookingState.CONFIRMED,
        )
        # The previous member's session on this machine is closed first (else: machine in use).
        running = UsageSession.objects.filter(machine=machine, ended_at__isnull=True)
        wait_for(lambda running=running: not running.exists(), 10)
        gate.reader.scan(member.badges.get().uid)
        if gate.wait_relay(True, 10) is None:
            event = AccessEvent.objects.filter(device=device).first()
            refused.append(event.reason if event else "no decision")
        else:
            started = time.perf_counter()
            revoke(kind, member, booking, machine)
            off = gate.wait_relay(False, 30)
            latencies[kind].append(off[1] - started if off else float("inf"))
        if kind == "emergency_stop":
            gate_emergency_clear(machine=machine, actor=staff, reason="Bench: cleared")
        Booking.objects.filter(pk=booking.pk, state__in=["confirmed", "checked_in"]).update(
            state=BookingState.CANCELLED
        )
    return latencies, refused


def outage(gates, devices, broker, bridge, *, seconds: float, queued: int) -> None:
    """Queue `queued` messages with the broker down for `seconds`; time their acknowledgement."""
    from django.db import transaction
    from django.db.models import Max

    from access.gates import allowlists_refresh, gate_switch_off
    from access.models import GateMessage

    before = GateMessage.objects.aggregate(last=Max("id"))["last"] or 0
    stopped = time.time()
    broker.stop()
    wait_for(lambda: not any(gate.connected for gate in gates), 30)
    requested = {"switch-off": 0, "allow-list": 0}
    for index in range(queued):
        device = devices[index % len(devices)]
        with transaction.atomic():
            if index // len(devices) % 2 == 0:
                gate_switch_off(
                    machine=device.machine, reason="bench_outage", message=f"Outage {index}"
                )
                requested["switch-off"] += 1
            else:
                allowlists_refresh([device.machine])
                requested["allow-list"] += 1
    time.sleep(max(0.0, stopped + seconds - time.time()))
    broker.start()
    back = time.time()
    rows = GateMessage.objects.filter(id__gt=before, created_at__lt=_aware(back))

    def settled() -> bool:
        return not rows.exclude(state__in=SETTLED).exists()

    wait_for(settled, 120, step=0.05)
    finished = list(rows.values("id", "device_id", "kind", "command_id", "state", "settled_at"))
    by_state: dict[str, int] = {}
    for row in finished:
        by_state[row["state"]] = by_state.get(row["state"], 0) + 1
    settle_times = [row["settled_at"].timestamp() - back for row in finished if row["settled_at"]]
    print(f"Broker outage of {back - stopped:.1f} s, {len(gates)} gates, one bridge")
    print(f"  requested while down: {requested}; outbox rows queued: {len(finished)}")
    print(
        f"  rows by final state: {by_state} ({by_state.get('acknowledged', 0)} acknowledged of "
        f"{len(finished)})"
    )
    delivered = [
        row.timestamp() - back for row in rows.values_list("delivered_at", flat=True) if row
    ]
    if delivered:
        print(f"  first round of publications recorded {min(delivered):.2f} s after it came back")
    if settle_times and len(settle_times) == len(finished):
        print(
            f"  broker back to each row settled: {summary_ms(settle_times)}; every row: "
            f"{max(settle_times):.2f} s (target < 5 s)"
        )
    else:
        print("  NOT every row settled within 120 s of the broker coming back")
    bridge_back = [at - back for at, _ in bridge.connections() if at >= back - 1]
    gates_back = [
        min(at for at, up in gate.connections if up and at >= back) - back
        for gate in gates
        if any(up and at >= back for at, up in gate.connections)
    ]
    if bridge_back:
        print(f"  bridge reconnected {max(bridge_back):.2f} s after the broker came back")
    if gates_back:
        print(f"  gates reconnected {min(gates_back):.2f}-{max(gates_back):.2f} s after it")
    print(f"  commands applied in queue order at every gate: {_in_order(gates, devices, finished)}")


def _aware(timestamp: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, tz=UTC)


def in_order(gates, devices, rows) -> dict[str, bool]:
    """Per gate: did the agent first receive its commands in the outbox's order (by row id)?"""
    ids = {row["command_id"]: row["id"] for row in rows if row["command_id"]}
    result = {}
    for gate, device in zip(gates, devices, strict=True):
        arrived = [
            ids[data["command_id"]]
            for _, data in gate.first_arrivals("command")
            if data["command_id"] in ids
        ]
        result[device.device_id] = arrived == sorted(arrived)
    return result


def _in_order(gates, devices, rows) -> str:
    result = in_order(gates, devices, rows)
    broken = [device_id for device_id, kept in result.items() if not kept]
    return "yes" if not broken else f"NO, out of order at {', '.join(broken)}"


if __name__ == "__main__":
    main()
