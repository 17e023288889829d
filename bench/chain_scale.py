"""A chain at TechShop scale on PostgreSQL: many locations, thousands of gates, millions of bookings.

    nice .venv/bin/python bench/chain_scale.py [--locations 100] [--machines 50] \
        [--members 100000] [--bookings 2000000] [--scans 2000]

Seeds the throwaway database `toolgate_bench` (recreated): --locations locations in two time zones,
--machines machines per location, each with opening hours and one gate, --members members
(paid, waiver, badge, certified, a home location), 2,000 bookings around now and then history up
to --bookings (bulk_create in batches). Then prints p50/p95 of one machine's week grid,
`booking_create`, a member's dashboard (the whole page through Django's test client), a
location's staff desk search and the access decision (`access_decide`), at 2,000 bookings and at
full size; the time for one bridge to build and publish every gate's allow-list once (the
refresh cycle); and decisions per second with 1 and with 4 bridges (processes, one shared
subscription) on its own Mosquitto. Goals (issue 12): week grid and booking_create p95 < 30 ms,
growth 2k -> full < 1.5x, the refresh well within 10 minutes, decisions/s x3 from 1 to 4 bridges.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
SAMPLES = 200
ZONES = ("America/Los_Angeles", "America/New_York")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locations", type=int, default=100)
    parser.add_argument("--machines", type=int, default=50, help="per location")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--bookings", type=int, default=2_000_000)
    parser.add_argument("--scans", type=int, default=2000, help="per throughput run")
    parser.add_argument(
        "--open-machines",
        type=int,
        default=0,
        help="give opening hours to (and time the week grid and booking_create on) only this "
        "many machines, spread over the locations; 0: all",
    )
    args = parser.parse_args()

    from tests.access.mosquitto import Mosquitto

    with tempfile.TemporaryDirectory() as directory:
        broker = Mosquitto(
            Path(directory), extra_config="allow_anonymous true\nset_tcp_nodelay true\n"
        ).start()
        os.environ["GATE_BROKER_URL"] = broker.url
        try:
            return Chain(args).run()
        finally:
            broker.stop()


class Chain:
    def __init__(self, args) -> None:
        self.args = args
        self.rng = random.Random(12)  # noqa: S311 - reproducible test data, not secrets
        self.results: dict[str, dict[str, tuple[float, float]]] = {}

    def run(self) -> int:
        import _django

        _django.setup("postgres")
        began = time.perf_counter()
        self.seed()
        print(f"seeded in {time.perf_counter() - began:.0f} s")
        self.base = self.add_bookings(self.this_monday, 14, max(1, 2000 // len(self.machines)))
        self.analyze()
        self.results["2k"] = self.measure(f"{self.count_bookings():,} bookings")
        began = time.perf_counter()
        history = max(0, self.args.bookings - self.base)
        per_machine = history // len(self.machines)
        if per_machine:
            self.add_bookings(self.this_monday - timedelta(days=400), 399, per_machine)
        self.analyze()
        print(
            f"added {per_machine * len(self.machines):,} bookings of history in "
            f"{time.perf_counter() - began:.0f} s"
        )
        self.results["full"] = self.measure(f"{self.count_bookings():,} bookings")
        self.refresh_cycle()
        rates = {bridges: self.throughput(bridges) for bridges in (1, 4)}
        return self.report(rates)

    # -- seeding -----------------------------------------------------------------------------

    def seed(self) -> None:
        import _django
        from django.utils import timezone

        from access.broker import mosquitto_password_hash
        from access.models import GateDevice
        from equipment.models import Machine
        from gate_agent import protocol
        from locations.models import Location
        from membership.models import Member
        from training.models import Certification, MemberCertification

        args = self.args
        today = timezone.localdate()
        self.this_monday = today - timedelta(days=today.weekday())
        self.next_monday = self.this_monday + timedelta(days=7)
        began = time.perf_counter()
        self.locations = Location.objects.bulk_create(
            [
                Location(name=f"Location {i:03}", slug=f"loc-{i:03}", time_zone=ZONES[i % 2])
                for i in range(args.locations)
            ]
        )
        cert = Certification.objects.create(name="Basic use", slug="basic-use")
        self.machines = Machine.objects.bulk_create(
            [
                Machine(
                    name=f"Machine {loc.slug}-{m:02}",
                    slug=f"m-{loc.slug}-{m:02}",
                    location=loc,
                    required_certification=cert,
                    slot_minutes=30,
                    min_minutes=30,
                    max_minutes=240,
                    book_ahead_days=70,
                    weekly_hours_per_member=0,
                    daily_bookings_per_member=0,
                )
                for loc in self.locations
                for m in range(args.machines)
            ],
            batch_size=2000,
        )
        count = args.open_machines or len(self.machines)
        stride = max(1, len(self.machines) // count)
        self.open_machines = self.machines[::stride][:count]
        self.open_hours(self.open_machines)
        print(
            f"  {len(self.locations)} locations, {len(self.machines):,} machines "
            f"({len(self.open_machines):,} with opening hours) in {time.perf_counter() - began:.0f} s"
        )
        began = time.perf_counter()
        password = mosquitto_password_hash("bench")
        self.gates = GateDevice.objects.bulk_create(
            [
                GateDevice(
                    machine=machine,
                    device_id=f"gate-{machine.slug}",
                    secret=protocol.new_device_secret(),
                    mqtt_username=f"gate-gate-{machine.slug}",
                    mqtt_password_hash=password,
                )
                for machine in self.machines
            ],
            batch_size=2000,
        )
        self.members = _django.ready_members(args.members)
        # Home locations round-robin, in one statement.
        Member.objects.update(home_location_id=None)
        first = self.locations[0].pk
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Member._meta.db_table} SET home_location_id = %s + (id %% %s)",  # noqa: S608
                [first, len(self.locations)],
            )
        MemberCertification.objects.bulk_create(
            [
                MemberCertification(member=m, certification=cert, granted_by=m.user)
                for m in self.members
            ],
            batch_size=5000,
        )
        self.badges = {
            m.pk: uid
            for m, uid in zip(
                self.members, (f"{0x10000000 + m.pk:08X}" for m in self.members), strict=True
            )
        }
        print(
            f"  {len(self.gates):,} gates, {len(self.members):,} members in "
            f"{time.perf_counter() - began:.0f} s"
        )

    def open_hours(self, machines) -> None:
        """08:00-22:00 every day on each machine's local clock: the service for one machine per
        time zone, then the same rule copied in bulk (the service takes ~0.1-0.5 s a machine;
        5,000 machines would take most of an hour)."""
        from schedule.models import Event

        from core.time import add_duration, local_midnight
        from equipment import selectors as equipment_selectors
        from equipment import services as equipment_services
        from equipment.models import MachineEvent

        starting = self.this_monday - timedelta(days=400)
        by_zone = {}
        for machine in machines:
            zone = _zone(machine)
            if zone.key not in by_zone:
                by_zone[zone.key] = equipment_services.opening_hours_add(
                    machine=machine,
                    weekdays=[0, 1, 2, 3, 4, 5, 6],
                    opens=clock(8),
                    closes=clock(22),
                    starting=starting,
                )
        copies = []
        for machine in machines:
            model = by_zone[_zone(machine).key]
            if model.machine_id == machine.pk:
                continue
            copies.append(
                (
                    machine,
                    Event(
                        title=f"{machine.name} open",
                        start=model.event.start,
                        end=add_duration(model.event.start, model.event.end - model.event.start),
                        rule=model.event.rule,
                        calendar=model.event.calendar,
                    ),
                )
            )
        events = Event.objects.bulk_create([event for _, event in copies], batch_size=2000)
        MachineEvent.objects.bulk_create(
            [
                MachineEvent(machine=machine, event=event, kind=MachineEvent.Kind.OPENING)
                for (machine, _), event in zip(copies, events, strict=True)
            ],
            batch_size=2000,
        )
        # A copy opens exactly as the machine the service opened.
        if copies:
            copy, model = copies[-1][0], by_zone[_zone(copies[-1][0]).key].machine
            week = (self.this_monday, self.next_monday)
            spans = [
                equipment_selectors.machine_calendar_facts(
                    m,
                    start=local_midnight(week[0], _zone(m)),
                    end=local_midnight(week[1], _zone(m)),
                ).opening
                for m in (copy, model)
            ]
            assert spans[0] == spans[1], "bulk-seeded opening hours differ from the service's"

    def add_bookings(self, first_day, days: int, per_machine: int) -> int:
        """`per_machine` non-overlapping bookings per machine over `days` from `first_day`,
        written in batches so memory stays flat."""
        from django.utils import timezone

        from bookings.models import Booking, BookingState

        now = timezone.now()
        rows: list = []
        written = 0
        states = [BookingState.COMPLETED] * 7 + [
            BookingState.CANCELLED,
            BookingState.NO_SHOW,
            BookingState.LATE_CANCELLED,
        ]
        for machine in self.machines:
            zone = _zone(machine)
            step = timedelta(days=days) / per_machine
            for k in range(per_machine):
                start = datetime.combine(first_day, clock(8), tzinfo=zone) + step * k
                start = start.replace(
                    minute=0 if start.minute < 30 else 30, second=0, microsecond=0
                )
                end = start + timedelta(minutes=30)
                rows.append(
                    Booking(
                        machine=machine,
                        member=self.rng.choice(self.members),
                        start=start,
                        end=end,
                        blocked_until=end,
                        state=BookingState.CONFIRMED if start >= now else self.rng.choice(states),
                    )
                )
                if len(rows) >= 20_000:
                    Booking.objects.bulk_create(rows, batch_size=5000)
                    written += len(rows)
                    rows = []
        Booking.objects.bulk_create(rows, batch_size=5000)
        return written + len(rows)

    def count_bookings(self) -> int:
        from bookings.models import Booking

        return Booking.objects.count()

    def analyze(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    # -- latency -----------------------------------------------------------------------------

    def measure(self, label: str) -> dict[str, tuple[float, float]]:
        import _django
        from django.conf import settings
        from django.test import Client, override_settings
        from django.utils import timezone

        from access.models import AccessSource
        from access.services import access_decide
        from bookings import selectors, services
        from membership.selectors import member_search_results
        from staffing.selectors import Scope

        rng = self.rng
        round_no = len(self.results)
        results: dict[str, tuple[float, float]] = {}

        def timed(name: str, call: Callable[[], object], samples: int = SAMPLES) -> None:
            for _ in range(5):  # warm caches and connections; not timed
                call()
            times = []
            for _ in range(samples):
                t0 = time.perf_counter()
                call()
                times.append((time.perf_counter() - t0) * 1000)
            results[name] = _django.percentiles(times)
            p50, p95 = results[name]
            print(f"[{label}] {name}: p50={p50:.1f} ms p95={p95:.1f} ms")

        timed(
            "week grid",
            lambda: selectors.week_grid(
                machine=rng.choice(self.open_machines),
                monday=self.next_monday,
                member=rng.choice(self.members),
                show_names=True,
            ),
        )
        slots = [(m, d, h) for m in self.open_machines for d in range(7) for h in (11, 13, 15, 17)]
        rng.shuffle(slots)
        slot_iter = iter(slots)
        third_monday = self.this_monday + timedelta(days=21 + 7 * round_no)

        def book() -> None:
            machine, day, hour = next(slot_iter)
            start = datetime.combine(
                third_monday + timedelta(days=day), clock(hour), tzinfo=_zone(machine)
            )
            services.booking_create(
                member=rng.choice(self.members),
                machine=machine,
                start=start,
                end=start + timedelta(hours=1),
            )

        timed("booking_create", book, samples=min(SAMPLES, len(slots) - 10))
        clients = []
        for member in rng.sample(self.members, 20):
            client = Client(HTTP_HOST="localhost")
            client.force_login(member.user)
            clients.append(client)

        def dashboard() -> None:
            response = rng.choice(clients).get("/dashboard/", secure=True)
            assert response.status_code == 200, response.status_code

        # Without collectstatic: plain static URLs instead of the production manifest's.
        storages = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        with override_settings(STORAGES=storages):
            timed("member dashboard", dashboard, samples=SAMPLES // 2)

        def desk_search() -> None:
            location = rng.choice(self.locations)
            member = rng.choice(self.members)
            scope = Scope(False, frozenset({location.pk}), self.locations[0].pk)
            member_search_results(member.user.email.split("@")[0], scope=scope)

        timed("staff desk search", desk_search)
        now = timezone.now()

        def decide() -> None:
            member = rng.choice(self.members)
            access_decide(
                badge_uid=self.badges[member.pk],
                machine=rng.choice(self.machines),
                source=AccessSource.WEB,
                at=now,
            )

        timed("access decision", decide)
        return results

    # -- gates -------------------------------------------------------------------------------

    def bridge(self, client_id: str) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 - this interpreter, this project's manage.py
            [sys.executable, str(ROOT / "manage.py"), "gate_bridge", "--client-id", client_id],
            env=os.environ | {"GATE_ALLOWLIST_REFRESH_SECONDS": "86400"},
            stdout=subprocess.DEVNULL,
        )

    def refresh_cycle(self) -> None:
        """Queue every gate's allow-list (as the bridge's housekeeping does), then time one
        bridge building, signing and publishing them all until the broker took each one."""
        from access import outbox
        from access.models import DeliveryState, GateMessage, GateMessageKind

        bridge = self.bridge("bench-refresh")
        acking = threading.Event()
        threading.Thread(target=_gates_acknowledge, args=(acking,), daemon=True).start()
        try:
            time.sleep(3)  # let it connect and run its own first housekeeping
            _wait(
                lambda: not GateMessage.objects.filter(state=DeliveryState.QUEUED).exists(),
                600,
            )
            began = time.perf_counter()
            outbox.outbox_allowlist(devices=self.gates)
            total = len(self.gates)

            def delivered() -> bool:
                return (
                    GateMessage.objects.filter(
                        kind=GateMessageKind.ALLOWLIST, state=DeliveryState.QUEUED
                    ).count()
                    == 0
                )

            _wait(delivered, 1200)
            self.refresh_seconds = time.perf_counter() - began
            print(
                f"refresh cycle: {total:,} allow-lists built and published by one bridge in "
                f"{self.refresh_seconds:.1f} s ({total / self.refresh_seconds:.0f}/s)"
            )
        finally:
            acking.set()
            bridge.terminate()
            bridge.wait(timeout=60)

    def throughput(self, bridges: int) -> float:
        """Decisions per second of `bridges` bridge processes sharing the badge requests."""
        from access.models import DeliveryState, GateMessage
        from access.mqtt import BrokerSettings, make_client
        from gate_agent import protocol as p

        secrets = {gate.device_id: gate.secret for gate in self.gates}
        members = self.rng.sample(self.members, min(len(self.members), len(self.gates)))
        pairs = list(zip(self.gates, members, strict=False))
        arrived: dict[str, float] = {}
        replied = threading.Condition()

        def on_message(client, userdata, message) -> None:
            device_id, _ = p.parse_topic(message.topic)
            reply = p.parse_signed(
                p.AccessReply, message.payload, device_id=device_id, secret=secrets[device_id]
            )
            with replied:
                arrived[reply.nonce] = time.perf_counter()
                replied.notify_all()

        broker = BrokerSettings.from_settings()
        gates = make_client(broker, client_id=f"bench-gates-{bridges}")
        gates.on_message = on_message
        subscribed = threading.Event()
        gates.on_subscribe = lambda *a: subscribed.set()
        gates.connect(broker.host, broker.port)
        gates.loop_start()
        gates.subscribe(f"{p.TOPIC_PREFIX}/+/{p.Topic.REPLY.value}", qos=1)
        subscribed.wait(10)

        def send(scan: int) -> str:
            gate, member = pairs[scan % len(pairs)]
            request = p.BadgeRequest(
                device_id=gate.device_id,
                nonce=p.new_nonce(),
                badge_uid=self.badges[member.pk],
                sent_at=int(time.time()),
                firmware="bench",
            )
            gates.publish(
                p.gate_topic(gate.device_id, p.Topic.REQUEST),
                p.sign(request, gate.secret).to_json(),
                qos=1,
            )
            return request.nonce

        processes = [self.bridge(f"bench-bridge-{bridges}-{n}") for n in range(bridges)]
        try:
            # Warm-up until every bridge is subscribed: a burst all of them answer.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                warm = [send(n) for n in range(50)]
                with replied:
                    if replied.wait_for(lambda w=warm: set(w) <= arrived.keys(), timeout=5):
                        break
            # Each bridge queued every gate's allow-list when it started: let them go out first.
            _wait(lambda: not GateMessage.objects.filter(state=DeliveryState.QUEUED).exists(), 600)
            arrived.clear()
            scans = self.args.scans
            started = time.perf_counter()
            sent = [send(n) for n in range(scans)]
            with replied:
                replied.wait_for(lambda: set(sent) <= arrived.keys(), timeout=300)
                answered = [arrived[n] for n in sent if n in arrived]
            seconds = max(answered) - started
            rate = len(answered) / seconds
            print(
                f"{bridges} bridge(s): {len(answered)}/{scans} scans answered, "
                f"{rate:.0f} decisions/s"
            )
            return rate
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
            gates.disconnect()
            gates.loop_stop()

    def report(self, rates: dict[int, float]) -> int:
        small, large = self.results["2k"], self.results["full"]
        status = 0
        print("\nsummary")
        for name in small:
            ratio = large[name][1] / small[name][1]
            target = {"week grid": 30, "booking_create": 30}.get(name)
            verdict = ""
            if target is not None:
                met = large[name][1] < target and ratio < 1.5
                verdict = " OK" if met else " MISSED"
                status |= not met
            print(
                f"  {name}: p50 {large[name][0]:.1f} ms, p95 {large[name][1]:.1f} ms at full "
                f"size; growth of p95 from 2k {ratio:.2f}x{verdict}"
            )
        print(f"  refresh cycle, one bridge: {self.refresh_seconds:.1f} s (10-minute cycle)")
        scaling = rates[4] / rates[1]
        print(
            f"  decisions/s: 1 bridge {rates[1]:.0f}, 4 bridges {rates[4]:.0f} "
            f"({scaling:.2f}x; goal 3x)"
        )
        return status


def _gates_acknowledge(stop: threading.Event) -> None:
    """Stand in for 5,000 gates: every allow-list the broker took is acknowledged at once.

    Without it nothing ever acknowledges, the bridge re-sends every delivered list on its retry
    schedule (1 s up to 30 s), and the claim, oldest first, spends its rounds on those re-sends
    instead of the lists still queued (the first runs stalled so at 2,200 of 5,000)."""
    from django.db import close_old_connections
    from django.utils import timezone

    from access.models import DeliveryState, GateMessage, GateMessageKind

    while not stop.wait(0.5):
        close_old_connections()
        GateMessage.objects.filter(
            kind=GateMessageKind.ALLOWLIST, state=DeliveryState.DELIVERED
        ).update(state=DeliveryState.ACKNOWLEDGED, acknowledged_at=timezone.now())


def _zone(machine):
    return machine.location.zone


def _wait(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            sys.exit("timed out")
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
