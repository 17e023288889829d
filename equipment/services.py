"""Actions on machines: calendars, opening hours, maintenance windows, service state, reports.

Cancelling bookings that a new maintenance window overlaps is the bookings app's job
(`bookings.services.maintenance_window_create` calls `maintenance_window_add` here).
"""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, time, timedelta

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.utils import timezone
from schedule.models import Calendar, Event, Rule

from equipment import hooks, selectors
from equipment.errors import EquipmentError
from equipment.models import Machine, MachineEvent, MachineState, MachineStateChange, ProblemReport
from membership.submissions import submission_claim

WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def machine_calendar(machine: Machine) -> Calendar:
    """The machine's django-scheduler calendar, created on first use."""
    if machine.calendar_id:
        return machine.calendar
    with transaction.atomic():
        calendar, _ = Calendar.objects.get_or_create(
            slug=f"machine-{machine.slug}", defaults={"name": f"Machine: {machine.name}"}
        )
        Machine.objects.filter(pk=machine.pk).update(calendar=calendar)
        machine.calendar = calendar
    return calendar


def _rule(frequency: str, params: str, name: str) -> Rule:
    rule, _ = Rule.objects.get_or_create(
        frequency=frequency, params=params, defaults={"name": name[:32], "description": name}
    )
    return rule


def opening_hours_add(
    *,
    machine: Machine,
    weekdays: list[int],
    opens: time,
    closes: time,
    starting: date | None = None,
    actor=None,
) -> MachineEvent:
    """Open the machine on `weekdays` (0 = Monday) from `opens` to `closes`, local time, weekly."""
    if not weekdays or any(day not in range(7) for day in weekdays):
        raise EquipmentError("Choose at least one weekday.")
    if closes <= opens:
        raise EquipmentError("Closing time must be after opening time.")
    starting = starting or timezone.localdate()
    zone = timezone.get_current_timezone()
    start = datetime.combine(starting, opens, tzinfo=zone)
    end = datetime.combine(starting, closes, tzinfo=zone)
    codes = ",".join(WEEKDAY_CODES[day] for day in sorted(set(weekdays)))
    # DAILY narrowed by weekday: a WEEKLY rule would be pinned to the first event's weekday by
    # django-scheduler's "start date influences rule params".
    rule = _rule("DAILY", f"byweekday:{codes}", f"Every {codes}")
    with transaction.atomic():
        event = Event.objects.create(
            calendar=machine_calendar(machine),
            title=f"{machine.name} open",
            start=start,
            end=end,
            rule=rule,
            creator=actor,
        )
        return MachineEvent.objects.create(
            machine=machine, event=event, kind=MachineEvent.Kind.OPENING, created_by=actor
        )


def maintenance_window_add(
    *,
    machine: Machine,
    start: datetime,
    end: datetime,
    reason: str,
    actor=None,
    repeat_weekly_until: datetime | None = None,
) -> MachineEvent:
    """Block the machine for maintenance once, or every week until `repeat_weekly_until`."""
    reason = reason.strip()
    if end <= start:
        raise EquipmentError("A maintenance window must end after it starts.")
    if not reason:
        raise EquipmentError("Say what the maintenance is for; members see it on the calendar.")
    rule = _rule("WEEKLY", "", "Weekly") if repeat_weekly_until else None
    with transaction.atomic():
        event = Event.objects.create(
            calendar=machine_calendar(machine),
            title=f"{machine.name} maintenance: {reason}"[:255],
            start=start,
            end=end,
            rule=rule,
            end_recurring_period=repeat_weekly_until,
            creator=actor,
        )
        return MachineEvent.objects.create(
            machine=machine,
            event=event,
            kind=MachineEvent.Kind.MAINTENANCE,
            reason=reason,
            created_by=actor,
        )


def machine_set_state(
    *,
    machine: Machine,
    state: str,
    reason: str,
    actor,
    token: uuid.UUID | None = None,
) -> MachineStateChange:
    """Take a machine out of service, back in, or retire it; maintainers and staff, logged."""
    reason = reason.strip()
    if state not in MachineState.values:
        raise EquipmentError(f"{state!r} is not a machine state.")
    if actor is not None and not selectors.user_may_service(actor, machine):
        raise EquipmentError("Only this machine's maintainers and staff can change its state.")
    if state != MachineState.IN_SERVICE and not reason:
        raise EquipmentError("Say why the machine is out of service; members see the reason.")
    with transaction.atomic():
        submission_claim(token)
        locked = Machine.objects.select_for_update().get(pk=machine.pk)
        if locked.state == state:
            raise EquipmentError(f"{locked.name} is already {locked.get_state_display().lower()}.")
        change = MachineStateChange.objects.create(
            machine=locked, from_state=locked.state, to_state=state, reason=reason, actor=actor
        )
        locked.state = state
        locked.state_reason = "" if state == MachineState.IN_SERVICE else reason
        locked.save(update_fields=["state", "state_reason"])
        if state != MachineState.IN_SERVICE:
            transaction.on_commit(lambda: hooks.machine_left_service.send(Machine, machine=locked))
    machine.state, machine.state_reason = locked.state, locked.state_reason
    return change


def problem_report_create(
    *, machine: Machine, reporter, description: str, token: uuid.UUID | None = None
) -> ProblemReport:
    description = description.strip()
    if not description:
        raise EquipmentError("Describe the problem so staff can fix it.")
    with transaction.atomic():
        submission_claim(token)
        return ProblemReport.objects.create(
            machine=machine, reporter=reporter, description=description
        )


def problem_report_resolve(
    *, report: ProblemReport, actor, resolution: str, token: uuid.UUID | None = None
) -> ProblemReport:
    if not selectors.user_may_service(actor, report.machine):
        raise EquipmentError("Only this machine's maintainers and staff can close its reports.")
    with transaction.atomic():
        submission_claim(token)
        locked = ProblemReport.objects.select_for_update().get(pk=report.pk)
        if locked.resolved_at is not None:
            raise EquipmentError("This report is already closed.")
        locked.resolved_at = timezone.now()
        locked.resolved_by = actor
        locked.resolution = resolution.strip()
        locked.save()
    return locked


def machine_label_svg(url: str) -> str:
    """An SVG QR code of `url` (the machine page) for a printable label."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
