"""Read-only views of the gates: the live staff page, a gate's page, the access log, machine time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    DurationField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from access.models import (
    AccessEvent,
    AccessSource,
    EmergencyStop,
    GateAlarm,
    GateChange,
    GateDevice,
    GateMessage,
    GateMessageKind,
    UsageSession,
)
from bookings.models import Booking
from bookings.states import ACTIVE_STATES
from core import clock
from equipment.models import Machine, MachineState
from gate_agent.badges import InvalidBadgeUID, normalize_badge_uid
from membership.models import Member
from membership.selectors import member_search
from staffing.selectors import EVERYWHERE, Scope

ALARMS_SHOWN_FOR = timedelta(days=1)


@dataclass(frozen=True)
class MachineLive:
    machine: Machine
    devices: list[GateDevice]
    session: UsageSession | None
    recent: list[AccessEvent]
    emergency_stop: EmergencyStop | None = None
    # The latest commands to its gates, with their delivery state, newest first.
    commands: tuple[GateMessage, ...] = ()
    # Its gates' alarms of the last day (a welded contactor, a relay that did not switch).
    alarms: tuple[GateAlarm, ...] = ()
    # Its confirmed or checked-in booking covering now, and the next one to start.
    booked_now: Booking | None = None
    booked_next: Booking | None = None

    @property
    def online(self) -> bool:
        return any(device.online for device in self.devices)

    @property
    def relay_on(self) -> bool:
        return any(device.relay_on for device in self.devices)


def machines_live(*, scope: Scope = EVERYWHERE, recent_events: int = 5) -> list[MachineLive]:
    """The machines of the locations in `scope`, with their gates, sessions and stops."""
    machines = (
        scope.filter(Machine.objects.all(), "location")
        .exclude(state=MachineState.RETIRED)
        .prefetch_related(
            Prefetch("gate_devices", queryset=GateDevice.objects.filter(enabled=True))
        )
    )
    open_sessions = {
        session.machine_id: session
        for session in UsageSession.objects.filter(ended_at__isnull=True)
        .select_related("member__user", "booking")
        .order_by("started_at")
    }
    stops = {
        stop.machine_id: stop
        for stop in EmergencyStop.objects.filter(cleared_at__isnull=True).select_related(
            "pressed_by"
        )
    }
    booked_now, booked_next = bookings_now_and_next(now=clock.now())
    alarms: dict[int, list[GateAlarm]] = {}
    for alarm in GateAlarm.objects.filter(at__gte=clock.now() - ALARMS_SHOWN_FOR).select_related(
        "device"
    ):
        alarms.setdefault(alarm.machine_id, []).append(alarm)
    live = []
    for machine in machines:
        recent = list(
            AccessEvent.objects.filter(machine=machine)
            .exclude(source="allowlist")
            .select_related("member__user")[:recent_events]
        )
        commands = tuple(
            GateMessage.objects.filter(
                device__machine=machine, kind=GateMessageKind.COMMAND
            ).select_related("device")[:3]
        )
        live.append(
            MachineLive(
                machine,
                list(machine.gate_devices.all()),
                open_sessions.get(machine.pk),
                recent,
                stops.get(machine.pk),
                commands,
                tuple(alarms.get(machine.pk, [])[:3]),
                booked_now.get(machine.pk),
                booked_next.get(machine.pk),
            )
        )
    return live


def bookings_now_and_next(*, now: datetime) -> tuple[dict[int, Booking], dict[int, Booking]]:
    """Per machine id: the active booking covering `now`, and the next one starting after it
    (within a day). One query."""
    current: dict[int, Booking] = {}
    upcoming: dict[int, Booking] = {}
    for booking in (
        Booking.objects.filter(
            state__in=ACTIVE_STATES, end__gt=now, start__lt=now + timedelta(days=1)
        )
        .select_related("member__user")
        .order_by("start", "pk")
    ):
        if booking.start <= now:
            current.setdefault(booking.machine_id, booking)
        else:
            upcoming.setdefault(booking.machine_id, booking)
    return current, upcoming


def gates_disabled(*, scope: Scope = EVERYWHERE) -> QuerySet[GateDevice]:
    """Gates staff disabled: the live page leaves them out, so it lists them apart."""
    gates = GateDevice.objects.filter(enabled=False).select_related("machine")
    return scope.filter(gates, "machine__location")


@dataclass(frozen=True)
class GatePage:
    device: GateDevice
    commands: list[GateMessage]
    allowlists: list[GateMessage]
    scans: list[AccessEvent]
    changes: list[GateChange]


def gate_page(device: GateDevice, *, recent: int = 20) -> GatePage:
    """A gate with its recent commands and allow-lists (with their delivery), scans and staff
    changes, newest first."""
    return GatePage(
        device,
        list(device.outbox.filter(kind=GateMessageKind.COMMAND).select_related("actor")[:recent]),
        list(device.outbox.filter(kind=GateMessageKind.ALLOWLIST)[:5]),
        list(
            device.access_events.exclude(source=AccessSource.ALLOWLIST).select_related(
                "member__user", "machine"
            )[:recent]
        ),
        list(device.changes.select_related("actor", "from_machine", "to_machine")[:recent]),
    )


@dataclass(frozen=True)
class AccessLogFilter:
    """What staff narrowed the access log to; empty values do not filter."""

    machine: Machine | None = None
    member: str = ""  # a name, email or badge UID, as the front desk search takes it
    since: date | None = None
    until: date | None = None  # inclusive
    allowed: bool | None = None
    # One `AccessSource`; none shows every source but the allow-list builds, which are the
    # site's own look-ahead decisions, not anyone at a machine.
    source: str = ""


def access_log(log_filter: AccessLogFilter, *, scope: Scope = EVERYWHERE) -> QuerySet[AccessEvent]:
    """Access events matching `log_filter` at the locations in `scope`, newest first."""
    events = scope.filter(
        AccessEvent.objects.select_related("machine__location", "device", "member__user"),
        "machine__location",
    )
    if log_filter.machine is not None:
        events = events.filter(machine=log_filter.machine)
    if log_filter.member.strip():
        # A badge nobody holds is still found: its scans name no member, only the UID.
        events = events.filter(
            Q(member__in=member_search(log_filter.member).values("pk"))
            | _scanned_uid(log_filter.member)
        )
    if log_filter.since is not None:
        events = events.filter(at__gte=_local_midnight(log_filter.since))
    if log_filter.until is not None:
        events = events.filter(at__lt=_local_midnight(log_filter.until + timedelta(days=1)))
    if log_filter.allowed is not None:
        events = events.filter(allowed=log_filter.allowed)
    if log_filter.source:
        events = events.filter(source=log_filter.source)
    else:
        events = events.exclude(source=AccessSource.ALLOWLIST)
    return events.order_by("-at", "-id")


def _scanned_uid(text: str) -> Q:
    """Events of the badge UID `text` (in any reader format); none when it is no UID."""
    try:
        return Q(badge_uid=normalize_badge_uid(text))
    except InvalidBadgeUID:
        return Q(pk__in=[])


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def member_usage_sessions(member: Member) -> QuerySet[UsageSession]:
    """The member's machine time, newest first."""
    return UsageSession.objects.filter(member=member).select_related("machine__location", "booking")


@dataclass(frozen=True)
class MachineTime:
    machine: Machine
    total: timedelta


def member_usage_month_totals(member: Member, *, now: datetime | None = None) -> list[MachineTime]:
    """The member's time on each machine in sessions started this calendar month (local time);
    a session still running counts up to `now`."""
    now = now or clock.now()
    month_start = _local_midnight(timezone.localdate(now).replace(day=1))
    totals = (
        UsageSession.objects.filter(member=member, started_at__gte=month_start)
        .values("machine")
        .annotate(
            total=Sum(
                ExpressionWrapper(
                    Coalesce(F("ended_at"), Value(now)) - F("started_at"),
                    output_field=DurationField(),
                )
            )
        )
        .order_by()
    )
    machines = Machine.objects.in_bulk([row["machine"] for row in totals])
    return sorted(
        (MachineTime(machines[row["machine"]], row["total"]) for row in totals),
        key=lambda row: row.machine.name,
    )
