"""The chaos soak: 50 gates, two bridges, the broker restarted and bridges killed, for minutes.

    .venv/bin/python bench/soak.py [--minutes 10] [--gates 50] [--seed 1] [--logs DIR]

On PostgreSQL database `toolgate_bench_soak` (recreated) and its own Mosquitto (persistence,
`set_tcp_nodelay true`). `--gates` real gate agents (`gate_agent.runner.Runner` with a
`SimulatedRelay`, in this process, from `bench/outbox.py`), each on its own machine; two bridges
as their own processes (`manage.py gate_bridge --client-id soak-bridge-a` and `-b`). Four
members are regulars of each machine. For `--minutes`, at random (seeded):

- scans (`--scans-per-second` in all, on a random gate): the booked member's badge mostly, else a
  regular's (maybe disabled), else an unknown one;
- a booking keeper books every machine that has no booking for a regular, walk-up, for the
  current 5-minute slot and one more at most (`booking_create`);
- site actions (`--actions-per-minute` in all), through the real services, on a member or
  machine that is running (as the site sees it) when there is one: membership cancelled
  (`membership_set_status`) or lapsed (paid-through date moved past grace, then
  `membership_lapse`), paid again 10-40 s later (`payment_record_manual`); badge disabled
  (`badge_disable`), a new one assigned 5-20 s later; booking cancelled by staff
  (`booking_cancel`); booking extended by 5 minutes (`booking_extend`); emergency stop
  (`gate_emergency_stop`), cleared 5-20 s later; certification revoked
  (`certification_revoke`), granted again 10-30 s later;
- disruptions, one at a time, every 15-45 s, each a broker restart (SIGTERM, down 1-10 s, then
  a new Mosquitto on the same port and persistence file) or a bridge killed (SIGKILL, restarted
  with its client id after 1-10 s), at even odds: each about once a minute.

Then the broker and both bridges are left up until the gates have uploaded everything and every
outbox message is settled (or a minute passes), and it prints:

- scans; decisions (online, `AccessEvent` source gate); offline decisions (uploaded; and
  journaled by the gates);
- **relay-on periods without a valid grant at that moment** (must be 0). Each relay-on period of
  each gate (from the simulated relay's transitions) belongs to the session the agent journaled
  just before switching on, and so to one badge B on gate D. A *grant* for (D, B) is one of:
  an allowed online decision (`AccessEvent`, source gate), from its time to its grant end; an
  allowed offline decision the gate uploaded (source offline), from its time to its grant end,
  valid only if an allow-list the site built for D (its signed payload in the outbox) has a
  window for B's keyed hash covering that time and reaching that grant end; an extend command
  to D for B that D acknowledged, from when it was queued to its grant end. A grant made before
  a revocation affecting (D, B) committed is cut short by it: membership cancelled or lapsed,
  certification revoked (B's member, any gate), badge B disabled, B's member's booking on D's
  machine cancelled, emergency stop of D's machine (any badge). It is cut at the moment the
  site received D's acknowledgement of a switch-off for B (or for everyone) queued by that
  revocation; if it queued none, at the acknowledgement of an earlier switch-off for B still
  on its way to D then, or else at the revocation's commit (the site did not tell the gate);
  never if the switch-off was not acknowledged (then the message shows up below). A grant
  from an allow-list window counts as made when the list was built (its version is the build
  time in ms), and is also cut when D acknowledged a list built after the revocation. A
  relay-on period is counted if any part of it longer than 1 s (the agent's tick and whole
  seconds on the wire) is covered by no grant of (D, B);
- **event uploads lost** (must be 0): events the gates journaled (`events.jsonl`) that the site
  does not have: an offline decision without its `AccessEvent` (by gate event id), a session
  start without its `UsageSession`, an end not recorded on it, an extension whose grant end
  the session does not reach (and that is not explained by the session having ended first);
- **site-to-gate messages not acknowledged within 5 s of the broker being back** (must be 0,
  among those whose gate was online): for each broker restart, every outbox message to a gate
  that was pending when the broker came back (or queued before that gate reconnected) must be
  settled (acknowledged; or superseded by a newer allow-list) within 5 s of the later of the
  broker's return and the gate's reconnection. A gate that did not reconnect, or dropped again,
  before that deadline is left out, and so is a restart followed within that time by the next
  disruption; both are counted and printed;
- **revocation to relay off**: for each revocation and each gate on which a session it affects
  was running, from just before the service call to the relay's off transition; the worst of
  all, and p50/p99/worst of those with the broker up throughout.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import itertools
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import inf
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_PG_NAME", "toolgate_bench_soak")

from outbox import (  # noqa: E402 - the bench directory is on the path only from here
    MOSQUITTO_CONFIG,
    SETTLED,
    BridgeProcess,
    bench_site,
    quiet_logs,
    start_gates,
    summary_ms,
    wait_for,
)

REGULARS = 4
TOLERANCE = 1.0
ACK_DEADLINE = 5.0
WEIGHTS = {
    "cancel_membership": 2,
    "lapse": 2,
    "badge": 3,
    "cancel_booking": 4,
    "extend": 4,
    "emergency_stop": 2,
    "certification": 2,
}
REVOKING = {
    "cancel_membership",
    "lapse",
    "badge",
    "cancel_booking",
    "emergency_stop",
    "certification",
}
UNKNOWN_BADGE = "DEADBEEF"


@dataclass
class Revocation:
    kind: str
    started: float
    committed: float
    member_id: int | None = None
    badge_uid: str | None = None
    machine_id: int | None = None

    def affects(self, machine_id: int, member_id: int | None, badge_uid: str) -> bool:
        if self.kind == "emergency_stop":
            return machine_id == self.machine_id
        if self.kind == "badge":
            return badge_uid == self.badge_uid
        if self.kind == "cancel_booking":
            return machine_id == self.machine_id and member_id == self.member_id
        return member_id == self.member_id


@dataclass
class Disruption:
    kind: str  # "broker" or "bridge"
    name: str
    down: float
    up: float


def aware(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


class Soak:
    def __init__(self, args, directory: Path) -> None:
        self.args, self.directory = args, directory
        self.random = random.Random(args.seed)  # noqa: S311 - chaos, not secrets
        self.stopping = threading.Event()
        self.revocations: list[Revocation] = []
        self.actions: Counter[str] = Counter()
        self.disruptions: list[Disruption] = []
        self.scans = 0
        self.errors: list[str] = []
        self._later: list[tuple[float, int, object]] = []  # restorations due, a heap
        self._tickets = itertools.count()
        self._fresh_badges = itertools.count(0x20000000)

    # -- set-up ---------------------------------------------------------------------------------

    def run(self) -> None:
        import _django

        from tests.access.mosquitto import Mosquitto

        self.broker = Mosquitto(self.directory, extra_config=MOSQUITTO_CONFIG).start()
        os.environ["GATE_BROKER_URL"] = self.broker.url
        self.bridges: list[BridgeProcess] = []
        self.gates = []
        try:
            _django.setup("postgres")
            quiet_logs()
            from equipment.models import Machine

            count = self.args.gates
            self.staff, self.devices, people = bench_site(
                machines=count, members=count * REGULARS, prefix="soak"
            )
            self.certification = Machine.objects.first().required_certification
            # Member ids: each thread reads fresh rows, never another thread's cached objects.
            self.regulars = {
                device.machine_id: [m.pk for m in people[i * REGULARS : (i + 1) * REGULARS]]
                for i, device in enumerate(self.devices)
            }
            self.bridges = [
                BridgeProcess(
                    f"soak-bridge-{name}",
                    self.directory / f"bridge-{name}.log",
                    refresh_seconds=300,
                ).start()
                for name in ("a", "b")
            ]
            self._book_free_machines()
            self.gates = start_gates(self.devices, self.directory, self.broker.port, self.bridges)
            self.soak()
            self.settle()
            self.report()
        finally:
            for gate in self.gates:
                gate.stop()
            for bridge in self.bridges:
                bridge.stop()
                if self.args.logs:
                    shutil.copy(bridge.log_path, self.args.logs)
            self.broker.stop()

    def soak(self) -> None:
        workers = [
            threading.Thread(target=self._guarded, args=(loop,), name=loop.__name__)
            for loop in (
                self._scan_loop,
                self._keeper_loop,
                self._action_loop,
                self._disruption_loop,
            )
        ]
        self.started = time.time()
        for worker in workers:
            worker.start()
        deadline = self.started + self.args.minutes * 60
        minute = 0
        while not self.stopping.wait(min(60.0, max(0.0, deadline - time.time()))):
            if time.time() >= deadline:
                break
            minute += 1
            print(
                f"  {minute} min: {self.scans} scans, {sum(self.actions.values())} site "
                f"actions, {len(self.disruptions)} disruptions",
                flush=True,
            )
        self.stopping.set()
        for worker in workers:
            worker.join(timeout=60)
        self.ended = time.time()

    def _guarded(self, loop) -> None:
        from django.db import connection

        try:
            loop()
        except BaseException:
            self.errors.append(traceback.format_exc())
            self.stopping.set()
        finally:
            connection.close()

    # -- the shop -------------------------------------------------------------------------------

    def _scan_loop(self) -> None:
        from django.utils import timezone

        from bookings.models import ACTIVE_STATES, Booking
        from membership.models import Badge

        rate = self.args.scans_per_second
        while not self.stopping.wait(self.random.expovariate(rate)):
            gate = self.random.choice(self.gates)
            now, roll = timezone.now(), self.random.random()
            booked = list(
                Booking.objects.filter(
                    machine_id=gate.machine_id,
                    state__in=ACTIVE_STATES,
                    start__lte=now,
                    end__gt=now,
                ).values_list("member_id", flat=True)
            )
            if roll < 0.75 and booked:
                badges = Badge.objects.filter(member_id=booked[0], enabled=True)
            elif roll < 0.95:
                member_id = self.random.choice(self.regulars[gate.machine_id])
                badges = Badge.objects.filter(member_id=member_id).order_by("-enabled", "?")
            else:
                badges = Badge.objects.none()
            uid = next(iter(badges.values_list("uid", flat=True)), UNKNOWN_BADGE)
            gate.reader.scan(uid)
            self.scans += 1

    def _keeper_loop(self) -> None:
        while not self.stopping.wait(2.0):
            self._book_free_machines()

    def _book_free_machines(self) -> None:
        """Every machine without a booking now gets one, for a regular who may book."""
        from django.utils import timezone

        from bookings.errors import BookingRejected
        from bookings.models import ACTIVE_STATES, Booking
        from bookings.services import booking_create
        from membership.models import Member

        now = timezone.now()
        taken = set(
            Booking.objects.filter(
                state__in=ACTIVE_STATES, start__lte=now, end__gt=now
            ).values_list("machine_id", flat=True)
        )
        slot = timezone.localtime(now).replace(second=0, microsecond=0)
        slot -= timedelta(minutes=slot.minute % 5)
        for device in self.devices:
            if device.machine_id in taken:
                continue
            regulars = self.random.sample(self.regulars[device.machine_id], REGULARS)
            for member in Member.objects.select_related("user").filter(pk__in=regulars):
                try:
                    booking_create(
                        member=member,
                        machine=device.machine,
                        start=slot,
                        end=slot + timedelta(minutes=self.random.choice((5, 10))),
                        actor=member.user,
                    )
                    break
                except BookingRejected:
                    continue

    # -- site actions ---------------------------------------------------------------------------

    def _action_loop(self) -> None:
        from core.errors import DomainError

        kinds, weights = zip(*WEIGHTS.items(), strict=True)
        rate = self.args.actions_per_minute / 60
        next_action = time.time() + self.random.expovariate(rate)
        while not self.stopping.wait(0.05):
            while self._later and self._later[0][0] <= time.time():
                _, _, restore = heapq.heappop(self._later)
                with contextlib.suppress(DomainError):  # e.g. a stop cleared already
                    restore()
            if time.time() < next_action:
                continue
            next_action = time.time() + self.random.expovariate(rate)
            kind = self.random.choices(kinds, weights)[0]
            try:
                if getattr(self, f"_do_{kind}")():
                    self.actions[kind] += 1
            except DomainError:
                self.actions[f"{kind} refused"] += 1

    def _later_do(self, low: float, high: float, action) -> None:
        due = time.time() + self.random.uniform(low, high)
        heapq.heappush(self._later, (due, next(self._tickets), action))

    def _running(self):
        """(member id, machine id, badge uid) of a session the site sees running, else None."""
        from access.models import UsageSession

        running = list(
            UsageSession.objects.filter(ended_at__isnull=True, member__isnull=False).values_list(
                "member_id", "machine_id", "badge_uid"
            )
        )
        return self.random.choice(running) if running and self.random.random() < 0.8 else None

    def _member(self, member_id: int | None = None):
        from membership.models import Member

        if member_id is None:
            machine_id = self.random.choice(self.devices).machine_id
            member_id = self.random.choice(self.regulars[machine_id])
        return Member.objects.select_related("membership", "user").get(pk=member_id)

    def _revoke(self, kind: str, call, **target) -> bool:
        started = time.time()
        call()
        self.revocations.append(Revocation(kind, started, time.time(), **target))
        return True

    def _do_cancel_membership(self) -> bool:
        from membership.models import ChangeCause, MembershipStatus
        from membership.services import membership_set_status, payment_record_manual

        running = self._running()
        member = self._member(running and running[0])
        if member.membership.status != MembershipStatus.ACTIVE:
            return False
        self._revoke(
            "cancel_membership",
            lambda: membership_set_status(
                membership=member.membership,
                status=MembershipStatus.CANCELED,
                reason="Soak: chargeback",
                cause=ChangeCause.STAFF,
                actor=self.staff,
            ),
            member_id=member.pk,
        )
        self._later_do(10, 40, lambda: payment_record_manual(member=member, actor=self.staff))
        return True

    def _do_lapse(self) -> bool:
        from django.utils import timezone

        from membership import selectors
        from membership.billing.lapse import membership_lapse
        from membership.models import Membership, MembershipStatus
        from membership.services import payment_record_manual

        running = self._running()
        member = self._member(running and running[0])
        membership = Membership.objects.get(member=member)
        if membership.status != MembershipStatus.ACTIVE:
            return False

        def lapse() -> None:
            # Time passing: the paid-through date and its grace are behind us; the periodic
            # job records the lapse and tells the gates.
            unpaid = timezone.now() - selectors.grace_period() - timedelta(minutes=1)
            Membership.objects.filter(pk=membership.pk).update(current_period_end=unpaid)
            membership_lapse(membership_id=membership.pk)

        self._revoke("lapse", lapse, member_id=member.pk)
        self._later_do(10, 40, lambda: payment_record_manual(member=member, actor=self.staff))
        return True

    def _do_badge(self) -> bool:
        from membership.models import Badge
        from membership.services import badge_assign, badge_disable

        running = self._running()
        member = self._member(running and running[0])
        badge = Badge.objects.filter(member=member, enabled=True).first()
        if badge is None:
            return False
        self._revoke(
            "badge",
            lambda: badge_disable(badge=badge, reason="Soak: lost", actor=self.staff),
            member_id=member.pk,
            badge_uid=badge.uid,
        )
        uid = f"{next(self._fresh_badges):08X}"
        self._later_do(5, 20, lambda: badge_assign(member=member, uid=uid, actor=self.staff))
        return True

    def _current_booking(self, *, running: bool):
        from django.utils import timezone

        from bookings.models import ACTIVE_STATES, Booking

        now = timezone.now()
        bookings = Booking.objects.filter(state__in=ACTIVE_STATES, start__lte=now, end__gt=now)
        if running and (session := self._running()):
            bookings = bookings.filter(member_id=session[0], machine_id=session[1])
        return bookings.select_related("member__user", "machine").order_by("?").first()

    def _do_cancel_booking(self) -> bool:
        from bookings.services import booking_cancel

        booking = self._current_booking(running=True)
        if booking is None:
            return False
        return self._revoke(
            "cancel_booking",
            lambda: booking_cancel(booking=booking, actor=self.staff, reason="Soak: class"),
            member_id=booking.member_id,
            machine_id=booking.machine_id,
        )

    def _do_extend(self) -> bool:
        from bookings.services import booking_extend

        booking = self._current_booking(running=True)
        if booking is None:
            return False
        booking_extend(
            booking=booking, new_end=booking.end + timedelta(minutes=5), actor=booking.member.user
        )
        return True

    def _do_emergency_stop(self) -> bool:
        from access.gates import gate_emergency_clear, gate_emergency_stop
        from access.models import EmergencyStop

        running = self._running()
        machine_id = running[1] if running else self.random.choice(self.devices).machine_id
        if EmergencyStop.objects.filter(machine_id=machine_id, cleared_at__isnull=True).exists():
            return False
        machine = next(d.machine for d in self.devices if d.machine_id == machine_id)
        self._revoke(
            "emergency_stop",
            lambda: gate_emergency_stop(machine=machine, actor=self.staff),
            machine_id=machine_id,
        )
        self._later_do(
            5,
            20,
            lambda: gate_emergency_clear(machine=machine, actor=self.staff, reason="Soak: safe"),
        )
        return True

    def _do_certification(self) -> bool:
        from training.models import MemberCertification
        from training.services import certification_grant, certification_revoke

        running = self._running()
        member = self._member(running and running[0])
        grant = MemberCertification.objects.filter(member=member, revoked_at__isnull=True).first()
        if grant is None:
            return False
        self._revoke(
            "certification",
            lambda: certification_revoke(grant=grant, reason="Soak: incident", actor=self.staff),
            member_id=member.pk,
        )
        self._later_do(
            10,
            30,
            lambda: certification_grant(
                member=member,
                certification=self.certification,
                actor=self.staff,
                note="Soak: retrained",
            ),
        )
        return True

    # -- disruptions ----------------------------------------------------------------------------

    def _disruption_loop(self) -> None:
        while not self.stopping.wait(self.random.uniform(15, 45)):
            downtime = self.random.uniform(1, 10)
            if self.random.random() < 0.5:
                down = time.time()
                self.broker.stop()
                time.sleep(downtime)
                self._start_broker()
                self.disruptions.append(Disruption("broker", "mosquitto", down, time.time()))
            else:
                bridge = self.random.choice(self.bridges)
                down = time.time()
                bridge.kill()
                time.sleep(downtime)
                bridge.start()
                self.disruptions.append(Disruption("bridge", bridge.client_id, down, time.time()))

    def _start_broker(self) -> None:
        for _ in range(5):
            try:
                self.broker.start()
                return
            except BaseException:
                time.sleep(1)
        raise RuntimeError("Mosquitto did not start again")

    # -- the end --------------------------------------------------------------------------------

    def settle(self) -> None:
        """Everything up until the gates uploaded all and the outbox is settled (or a minute)."""
        from access.models import GateMessage

        if self.broker.process is None:
            self._start_broker()
        for bridge in self.bridges:
            if not bridge.running:
                bridge.start()
        wait_for(
            lambda: all(g.connected and not g.agent.unsent_events() for g in self.gates),
            60,
            step=0.2,
        )
        wait_for(lambda: not GateMessage.objects.exclude(state__in=SETTLED).exists(), 60, step=0.2)
        self.journals = {gate.device_id: gate.journal() for gate in self.gates}
        self.unsent = sum(len(gate.agent.unsent_events()) for gate in self.gates)
        wait_for(lambda: not self._lost_events(), 60, step=0.5)
        self.settled = time.time()

    def report(self) -> None:
        from access.models import AccessEvent

        minutes = (self.ended - self.started) / 60
        broker = [d for d in self.disruptions if d.kind == "broker"]
        killed = [d for d in self.disruptions if d.kind == "bridge"]
        print(
            f"Chaos soak: {len(self.gates)} gates, 2 bridges, {minutes:.1f} min "
            f"(seed {self.args.seed})"
        )
        print(
            f"  broker restarts: {len(broker)} (down {_span(broker)}); bridges killed: "
            f"{len(killed)} (down {_span(killed)})"
        )
        print(f"  site actions: {dict(sorted(self.actions.items()))}")
        events = AccessEvent.objects.filter(at__gte=aware(self.started))
        online, offline = events.filter(source="gate"), events.filter(source="offline")
        journaled_offline = sum(
            1
            for journal in self.journals.values()
            for e in journal
            if e["kind"] == "offline_decision"
        )
        print(
            f"  scans {self.scans}; decisions {online.count()} (allowed "
            f"{online.filter(allowed=True).count()}); offline decisions {offline.count()} "
            f"(allowed {offline.filter(allowed=True).count()}; journaled by the gates "
            f"{journaled_offline})"
        )
        periods, unjustified = self.relay_check()
        print(
            f"  relay-on periods {periods}; without a valid grant at that moment: "
            f"{len(unjustified)} (must be 0)"
        )
        for line in unjustified[:10]:
            print(f"    {line}")
        lost = self._lost_events()
        total = sum(len(journal) for journal in self.journals.values())
        print(
            f"  event uploads lost: {len(lost)} of {total} journaled (must be 0); unsent at the "
            f"end {self.unsent}"
        )
        for line in lost[:10]:
            print(f"    {line}")
        late, checked, left_out = self.ack_check()
        print(
            f"  site-to-gate messages not acknowledged within 5 s of the broker being back: "
            f"{len(late)} of {checked} (must be 0); left out: {dict(left_out)}"
        )
        for line in late[:10]:
            print(f"    {line}")
        self.print_ack_latency()
        self.print_revocation_latency()
        print("  disruptions:")
        self.print_timeline()
        for bridge in self.bridges:
            for line in bridge.problems()[:5]:
                print(f"  {bridge.client_id} log: {line}")
        for error in self.errors:
            print(f"  bench thread failed:\n{error}")

    # -- the checks -----------------------------------------------------------------------------

    def _site(self):
        """The site's records the checks read, loaded once."""
        if hasattr(self, "_loaded"):
            return self._loaded
        from access.models import AccessEvent, GateMessage
        from gate_agent import protocol
        from membership.models import Badge

        owner = dict(Badge.objects.values_list("uid", "member_id"))
        grants = defaultdict(list)  # (device pk, badge uid) -> [(start, end, made, kind)]
        for device_id, uid, at, end, source in AccessEvent.objects.filter(
            allowed=True, source__in=["gate", "offline"], grant_end__isnull=False
        ).values_list("device_id", "badge_uid", "at", "grant_end", "source"):
            grants[(device_id, uid)].append((at.timestamp(), end.timestamp(), source))
        messages = list(
            GateMessage.objects.values(
                "id",
                "device_id",
                "kind",
                "action",
                "payload",
                "created_at",
                "delivered_at",
                "acknowledged_at",
                "settled_at",
                "state",
                "allowlist_version",
            )
        )
        for row in messages:
            row["created"] = row["created_at"].timestamp()
            row["acked"] = row["acknowledged_at"].timestamp() if row["acknowledged_at"] else None
            row["settled"] = row["settled_at"].timestamp() if row["settled_at"] else None
            row["delivered"] = row["delivered_at"].timestamp() if row["delivered_at"] else None
            row["data"] = json.loads(row["payload"]) if row["payload"] else {}
        self._loaded = owner, grants, messages, protocol
        return self._loaded

    def relay_check(self) -> tuple[int, list[str]]:
        owner, decisions, messages, protocol = self._site()
        told = _GateTold(messages)
        periods, unjustified = 0, []
        for gate, device in zip(self.gates, self.devices, strict=True):
            starts = [e for e in self.journals[gate.device_id] if e["kind"] == "session_start"]
            intervals = _on_intervals(gate.transitions, self.settled)
            if len(starts) != len(intervals):
                unjustified.append(
                    f"{gate.device_id}: {len(intervals)} relay-on periods but "
                    f"{len(starts)} journaled session starts"
                )
                continue
            for (on, off), start in zip(intervals, starts, strict=True):
                periods += 1
                uid = start["badge_uid"]
                digest = protocol.allowlist_badge_hash(uid, gate.secret)
                revocations = [
                    r for r in self.revocations if r.affects(device.machine_id, owner.get(uid), uid)
                ]
                covered = told.grants(device.pk, digest, decisions[(device.pk, uid)], revocations)
                gap = _uncovered(on, off, covered, TOLERANCE)
                if gap > TOLERANCE:
                    unjustified.append(
                        f"{gate.device_id} badge {uid}: on {_clock(on)}-{_clock(off)} "
                        f"({start['reason']}), {gap:.1f} s without a grant; grants "
                        f"{[(_clock(a), _clock(b)) for a, b in covered]}; revocations "
                        f"{[(r.kind, _clock(r.started)) for r in revocations if r.started < off]}"
                    )
        return periods, unjustified

    def _lost_events(self) -> list[str]:
        from access.models import AccessEvent, UsageSession

        offline = set(
            AccessEvent.objects.filter(gate_event_id__isnull=False).values_list(
                "gate_event_id", flat=True
            )
        )
        sessions = {
            session_id: (ended, grant_end)
            for session_id, ended, grant_end in UsageSession.objects.values_list(
                "session_id", "ended_at", "grant_end"
            )
        }
        lost = []
        for device_id, journal in self.journals.items():
            for event in journal:
                kind, session = event["kind"], sessions.get(event.get("session_id"))
                if kind == "offline_decision":
                    missing = event["id"] not in offline
                elif kind == "session_start":
                    missing = session is None
                elif kind == "session_end":
                    missing = session is None or session[0] is None
                else:  # session_extend
                    missing = session is None or (
                        session[0] is None and session[1].timestamp() < event["grant_end"]
                    )
                if missing:
                    lost.append(f"{device_id}: {kind} {event['id']} at {_clock(event['at'])}")
        return lost

    def ack_check(self) -> tuple[list[str], int, Counter]:
        _, _, messages, _ = self._site()
        by_device = defaultdict(list)
        for row in messages:
            by_device[row["device_id"]].append(row)
        disruptions = sorted(self.disruptions, key=lambda d: d.down)
        late, checked, left_out = [], 0, Counter()
        for index, restart in enumerate(disruptions):
            if restart.kind != "broker":
                continue
            back = restart.up
            following = disruptions[index + 1].down if index + 1 < len(disruptions) else self.ended
            for gate, device in zip(self.gates, self.devices, strict=True):
                ups = [at for at, up in gate.connections if up and at >= restart.down]
                if not ups or ups[0] >= following:
                    left_out["gate did not reconnect before the next disruption"] += 1
                    continue
                online = max(back, ups[0])
                deadline = online + ACK_DEADLINE
                if any(not up and online <= at <= deadline for at, up in gate.connections):
                    left_out["gate dropped again"] += 1
                    continue
                if deadline > following:
                    left_out["next disruption within the deadline"] += 1
                    continue
                for row in by_device[device.pk]:
                    pending = row["created"] < online and (
                        row["settled"] is None or row["settled"] > back
                    )
                    if not pending:
                        continue
                    checked += 1
                    if row["settled"] is None or row["settled"] > deadline:
                        settled = (
                            "never"
                            if row["settled"] is None
                            else (f"{row['settled'] - online:.1f} s after")
                        )
                        late.append(
                            f"{gate.device_id} {row['kind']} {row['action']} #{row['id']} "
                            f"queued {_clock(row['created'])}, broker back {_clock(back)}, "
                            f"gate online {_clock(online)}, settled {settled} ({row['state']}); "
                            f"{_trace(gate, row, online)}"
                        )
        return late, checked, left_out

    def print_ack_latency(self) -> None:
        """Queue-to-acknowledgement of messages queued 10 s or more from any disruption."""
        _, _, messages, _ = self._site()
        spans = [(d.down - 10, d.up + 10) for d in self.disruptions]
        quiet = [
            row
            for row in messages
            if row["acked"]
            and self.started <= row["created"] <= self.ended
            and not any(a <= row["created"] <= b for a, b in spans)
        ]
        took = [row["acked"] - row["created"] for row in quiet]
        print(f"  queue to acknowledgement, nothing disrupted: {summary_ms(took)}")
        gates = {device.pk: gate for gate, device in zip(self.gates, self.devices, strict=True)}
        for row in sorted(quiet, key=lambda row: row["created"] - row["acked"])[:3]:
            print(
                f"    slowest: {gates[row['device_id']].device_id} {row['kind']} {row['action']} "
                f"#{row['id']} queued {_clock(row['created'])}: "
                f"{_trace(gates[row['device_id']], row, row['created'])}"
            )

    def print_timeline(self) -> None:
        """Each disruption, and how long the bridges and gates took to be connected again."""
        for d in sorted(self.disruptions, key=lambda d: d.down):
            line = f"    {_clock(d.down)} {d.name} down {d.up - d.down:.1f} s"
            bridges = [b for b in self.bridges if d.kind == "broker" or b.client_id == d.name]
            ups = [(b.client_id[-1], b.up_after(d.down)) for b in bridges]
            line += "; bridges connected again " + ", ".join(
                f"{name} +{up - d.up:.1f} s" if up else f"{name} never" for name, up in ups
            )
            if d.kind == "broker":
                back = sorted(
                    min((at for at, up in g.connections if up and at >= d.down), default=inf) - d.up
                    for g in self.gates
                )
                line += f"; gates +{back[0]:.1f} to +{back[-1]:.1f} s (median +{back[len(back) // 2]:.1f})"
            print(line + " after it was back")

    def print_revocation_latency(self) -> None:
        owner, _, _, _ = self._site()
        outages = [(d.down, d.up) for d in self.disruptions if d.kind == "broker"]
        disrupted = [(d.down, d.up) for d in self.disruptions]
        every, broker_up, undisturbed, still_on, slow = [], [], [], 0, []
        for gate, device in zip(self.gates, self.devices, strict=True):
            starts = [e for e in self.journals[gate.device_id] if e["kind"] == "session_start"]
            intervals = _on_intervals(gate.transitions, self.settled)
            for (on, off), start in zip(intervals, starts, strict=False):
                uid = start["badge_uid"]
                for r in self.revocations:
                    if not (on <= r.started < off) or not r.affects(
                        device.machine_id, owner.get(uid), uid
                    ):
                        continue
                    if off >= self.settled:
                        still_on += 1
                        continue
                    every.append(off - r.started)
                    if not any(a < off and r.started < b for a, b in outages):
                        broker_up.append(off - r.started)
                        slow.append((off - r.started, r, gate, device))
                    if not any(a < off and r.started < b for a, b in disrupted):
                        undisturbed.append(off - r.started)
        worst = f"{max(every):.2f} s" if every else "none"
        print(
            f"  revocation to relay off: worst {worst} (n {len(every)}); still on at the end: "
            f"{still_on}"
        )
        print(f"    broker up throughout: {summary_ms(broker_up)}")
        print(f"    broker and both bridges up throughout: {summary_ms(undisturbed)}")
        _, _, messages, _ = self._site()
        for took, r, gate, device in sorted(slow, key=lambda item: -item[0])[:3]:
            before = [d for d in self.disruptions if d.up <= r.started]
            last = max(before, key=lambda d: d.up, default=None)
            after = f"{r.started - last.up:.1f} s after {last.name} was back" if last else "-"
            told = [
                _trace(gate, row, r.started)
                for row in messages
                if row["device_id"] == device.pk
                and row["action"] == "switch_off"
                and r.started - 0.05 <= row["created"] <= r.committed + 0.05
            ]
            print(
                f"      slow: {r.kind} at {_clock(r.started)} ({after}), {gate.device_id} off "
                f"{took:.2f} s later; its switch-off: {told or 'none queued'}"
            )


class _GateTold:
    """What the site told each gate, from the outbox: allow-lists (built when, acknowledged
    when, windows by badge hash), switch-offs and acknowledged extends."""

    def __init__(self, messages) -> None:
        self.lists = defaultdict(list)  # device pk -> [(built, acked, {hash: [(start, end)]})]
        self.switch_offs = defaultdict(list)  # device pk -> [(created, acked, badge hashes)]
        self.extends = defaultdict(list)  # device pk -> [(created, grant end, badge hashes)]
        for row in messages:
            data = row["data"]
            if row["kind"] == "allowlist" and data:
                windows = defaultdict(list)
                for entry in data["entries"]:
                    windows[entry["badge_hash"]].append(
                        (entry["window_start"], entry["window_end"])
                    )
                self.lists[row["device_id"]].append((data["version"] / 1000, row["acked"], windows))
            elif row["action"] == "switch_off":
                hashes = set(data.get("badge_hashes", ()))
                self.switch_offs[row["device_id"]].append((row["created"], row["acked"], hashes))
            elif row["action"] == "extend" and row["acked"]:
                hashes = set(data.get("badge_hashes", ()))
                self.extends[row["device_id"]].append((row["created"], data["grant_end"], hashes))

    def grants(self, device: int, digest: str, decisions, revocations) -> list[tuple[float, float]]:
        """The (start, end) of every grant of the badge with keyed hash `digest` on `device`,
        each cut short by the revocations after it (the module docstring's definition)."""
        covered = []
        for at, grant_end, source in decisions:
            if source == "gate":
                covered.append((at, min(grant_end, self._cut(device, digest, revocations, at))))
                continue
            built = [
                built
                for built, _, windows in self.lists[device]
                if built <= at + 1
                and any(ws <= at + 1 and we >= grant_end for ws, we in windows.get(digest, ()))
            ]
            if built:
                end = self._cut(device, digest, revocations, max(built), from_list=True)
                covered.append((at, min(grant_end, end)))
        for created, grant_end, hashes in self.extends[device]:
            if digest in hashes:
                end = self._cut(device, digest, revocations, created)
                covered.append((created, min(grant_end, end)))
        return covered

    def _cut(self, device: int, digest: str, revocations, made: float, *, from_list=False):
        """When the revocations after `made` end a grant made then (infinity: never)."""
        never = float("inf")
        end = never
        for r in revocations:
            if made >= r.committed:
                continue
            queued = [
                acked
                for created, acked, hashes in self.switch_offs[device]
                if r.started - 0.05 <= created <= r.committed + 0.05
                and (not hashes or digest in hashes)
            ]
            if not queued:
                # Nothing new to say: the gate is told by a switch-off for B still on its way
                # (an earlier revocation's), if there is one; else the site failed to tell it.
                queued = [
                    acked
                    for created, acked, hashes in self.switch_offs[device]
                    if created < r.committed
                    and (acked is None or acked > r.committed)
                    and (not hashes or digest in hashes)
                ]
            at = min((a for a in queued if a), default=never) if queued else r.committed
            if from_list:
                newer = [a for built, a, _ in self.lists[device] if built > r.committed and a]
                at = min(at, min(newer, default=never))
            end = min(end, at)
        return end


def _trace(gate, row, since: float) -> str:
    """Where a message's time went, from `since`: its first PUBACK, its first arrival at the
    gate, the gate's first acknowledgement of it, the site recording that acknowledgement."""
    key = row["data"].get("command_id") or row["data"].get("version")
    arrived, acked = gate.trace(row["kind"], key) if key else (None, None)

    def mark(at):
        return "-" if at is None else f"+{at - since:.2f}"

    return (
        f"broker took it {mark(row['delivered'])}, reached the gate {mark(arrived)}, gate acked "
        f"{mark(acked)}, site recorded {mark(row['acked'])} s"
    )


def _on_intervals(transitions, end: float) -> list[tuple[float, float]]:
    intervals, on = [], None
    for wall, _, state in transitions:
        if state and on is None:
            on = wall
        elif not state and on is not None:
            intervals.append((on, wall))
            on = None
    if on is not None:
        intervals.append((on, end))
    return intervals


def _uncovered(start: float, end: float, covered, tolerance: float) -> float:
    """Seconds of [start, end) outside every covered span (each widened by `tolerance`)."""
    spans = sorted((a - tolerance, b + tolerance) for a, b in covered if b > a)
    gap, cursor = 0.0, start
    for a, b in spans:
        if b <= cursor:
            continue
        if a > cursor:
            gap += min(a, end) - cursor
        cursor = max(cursor, b)
        if cursor >= end:
            break
    return gap + max(0.0, end - cursor)


def _span(disruptions) -> str:
    if not disruptions:
        return "-"
    lengths = [d.up - d.down for d in disruptions]
    return f"{min(lengths):.1f}-{max(lengths):.1f} s"


def _clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%H:%M:%S.%f")[:-3]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--gates", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scans-per-second", type=float, default=4.0)
    parser.add_argument("--actions-per-minute", type=float, default=45.0)
    parser.add_argument("--logs", type=Path, help="a directory to keep the bridges' logs in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        Soak(args, Path(directory)).run()


if __name__ == "__main__":
    main()
