"""Actions on machines: calendars, opening hours, maintenance windows, service state, reports.

Cancelling bookings that a new maintenance window overlaps is the bookings app's job
(`bookings.services.maintenance_window_create` calls `maintenance_window_add` here). A change of
a machine's rules asks the bookings what it breaks (`equipment.consequences`) and is refused
until confirmed with that list, then carries it out in its own transaction.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import qrcode
import qrcode.image.svg
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from schedule.models import Calendar, Event, Rule

from core import clock, events
from core.gates import gates
from core.submissions import submission_claim
from core.time import add_duration, wall_time_exists
from equipment import notifications, rules, selectors, signals
from equipment.consequences import ChangeNeedsConfirmation, Consequences, RulesAfter, bookings_of
from equipment.errors import EquipmentError
from equipment.models import (
    Machine,
    MachineEvent,
    MachineState,
    MachineStateChange,
    ProblemReport,
    Severity,
)
from locations.zones import in_zone_of
from membership.models import User

# The fields staff edit on a machine's page; state, calendar and class sessions have their own
# actions, so an edit never overwrites a state change made meanwhile.
SETTINGS_FIELDS = (
    "name",
    "area",
    "description",
    "photo",
    "required_certification",
    "slot_minutes",
    "min_minutes",
    "max_minutes",
    "book_ahead_days",
    "weekly_hours_per_member",
    "daily_bookings_per_member",
    "buffer_minutes",
)


def machine_calendar(machine: Machine) -> Calendar:
    """The machine's django-scheduler calendar, created on first use."""
    if machine.calendar is not None:
        return machine.calendar
    calendar: Calendar  # django-scheduler's untyped manager returns Any
    with transaction.atomic():
        calendar, _created = Calendar.objects.get_or_create(
            slug=f"machine-{machine.slug}", defaults={"name": f"Machine: {machine.name}"}
        )
        Machine.objects.filter(pk=machine.pk).update(calendar=calendar)
        machine.calendar = calendar
    return calendar


def _rules_after(machine: Machine, opening: Iterable[rules.WeeklyHours]) -> RulesAfter:
    return RulesAfter(
        certification=machine.required_certification,
        weekly_hours_per_member=machine.weekly_hours_per_member,
        daily_bookings_per_member=machine.daily_bookings_per_member,
        buffer_minutes=machine.buffer_minutes,
        opening=tuple(sorted(opening)),
    )


def _weekly_hours(locked: Machine) -> list[rules.WeeklyHours]:
    return [(i.weekday, i.opens, i.closes) for i in selectors.opening_intervals(locked)]


def _consequences(*, stored: Machine, after: RulesAfter, now: datetime) -> Consequences | None:
    """What rules `after` would do to the bookings to come of `stored` (the machine as it is
    stored): None when they are its rules already."""
    if after == _rules_after(stored, _weekly_hours(stored)):
        return None
    return bookings_of().consequences(machine=stored, after=after, now=now)


def machine_change_consequences(
    *, machine: Machine, now: datetime | None = None
) -> Consequences | None:
    """What saving `machine` (new values set on it, not saved) would do to its bookings to come.
    Reads only: `machine_save` works it out again, under the machine's lock, before it saves."""
    stored = Machine.objects.select_related("required_certification").get(pk=machine.pk)
    after = _rules_after(machine, _weekly_hours(stored))
    return _consequences(stored=stored, after=after, now=now or clock.now())


def _judge_change(
    *, locked: Machine, after: RulesAfter, confirm: str | None, now: datetime
) -> Consequences | None:
    """`_consequences` of the change to `locked` (row locked), refused (nothing written) unless
    nothing breaks or `confirm` is the digest of exactly what breaks."""
    consequences = _consequences(stored=locked, after=after, now=now)
    if consequences is not None and consequences.affected and consequences.digest != confirm:
        raise ChangeNeedsConfirmation(consequences)
    return consequences


def _carry_out(
    *, machine: Machine, consequences: Consequences | None, actor: User | None, now: datetime
) -> None:
    """Cancel what `_judge_change` listed as cancelled; `machine` (locked) carries its new rules."""
    if consequences is not None and consequences.affected:
        bookings_of().carry_out(
            machine=machine, affected=consequences.affected, actor=actor, now=now
        )


def machine_save(
    *,
    machine: Machine,
    maintainers: Iterable[User],
    actor: User | None,
    token: uuid.UUID | None = None,
    confirm: str | None = None,
    now: datetime | None = None,
) -> Machine:
    """Add `machine` or store staff's changes to it (its fields already set) and its maintainers.

    Who may switch a machine on depends on its certification and its maintainers: when either
    changes, the gates' offline allow-lists are renewed in the same transaction. A change that
    breaks bookings to come (a new certification, lower limits, a longer buffer) raises
    `ChangeNeedsConfirmation` unless `confirm` is the digest of what it breaks; confirmed, the
    bookings it makes unusable are cancelled with it (`equipment.consequences`).
    """
    now = now or clock.now()
    if actor is not None and not actor.has_perm("equipment.manage_machines", machine):
        raise EquipmentError(_("Only staff who manage machines can change them."))
    problems = rules.booking_rules_problems(
        **{name: getattr(machine, name) for name in rules.BOOKING_RULE_FIELDS}
    )
    if problems:
        raise EquipmentError(" ".join(problems.values()))
    if machine.area is not None and machine.area.location_id != machine.location_id:
        raise EquipmentError(
            _("%(area)s is not an area of %(location)s.")
            % {"area": machine.area, "location": machine.location}
        )
    checkout = machine.required_checkout
    if checkout is not None and checkout.location_id != machine.location_id:
        raise EquipmentError(
            _("%(checkout)s is given at another location than %(location)s.")
            % {"checkout": checkout, "location": machine.location}
        )
    maintainer_ids = {user.pk for user in maintainers}
    with transaction.atomic():
        submission_claim(token)
        is_new = machine.pk is None
        if not is_new:
            before = Machine.objects.select_for_update(of=("self",)).get(pk=machine.pk)
            before_access = (
                before.required_certification_id,
                set(before.maintainers.values_list("pk", flat=True)),
            )
            consequences = _judge_change(
                locked=before,
                after=_rules_after(machine, _weekly_hours(before)),
                confirm=confirm,
                now=now,
            )
        try:
            with transaction.atomic():
                machine.save(update_fields=None if is_new else SETTINGS_FIELDS)
        except IntegrityError:
            raise EquipmentError(
                _("Another machine is already called %(machine)s.") % {"machine": machine.name}
            ) from None
        machine.maintainers.set(maintainer_ids)
        machine_calendar(machine)
        if not is_new:
            if before_access != (machine.required_certification_id, maintainer_ids):
                gates().machines_changed(machines=[machine])
            # The machine as saved: members waiting for the freed time are judged by its new rules.
            _carry_out(machine=machine, consequences=consequences, actor=actor, now=now)
    return machine


def _rule(frequency: str, params: str, name: str) -> Rule:
    rule, _created = Rule.objects.get_or_create(
        frequency=frequency, params=params, defaults={"name": name[:32], "description": name}
    )
    return rule


def _opening_rule(weekdays: Iterable[int]) -> Rule:
    codes = ",".join(selectors.WEEKDAY_CODES[day] for day in sorted(set(weekdays)))
    # DAILY narrowed by weekday: a WEEKLY rule would be pinned to the first event's weekday by
    # django-scheduler's "start date influences rule params".
    return _rule("DAILY", f"byweekday:{codes}", f"Every {codes}")


@in_zone_of("machine")
def opening_hours_add(
    *,
    machine: Machine,
    weekdays: list[int],
    opens: time,
    closes: time,
    starting: date | None = None,
    actor: User | None = None,
    token: uuid.UUID | None = None,
    confirm: str | None = None,
    now: datetime | None = None,
) -> MachineEvent:
    """Open the machine on `weekdays` (0 = Monday) from `opens` to `closes`, local time, weekly.

    `closes` at 00:00 means midnight. Hours that overlap hours already set are refused. The
    first hours set close the machine at all other times: bookings to come outside them are
    cancelled, once confirmed (`confirm`, as `machine_save`).
    """
    now = now or clock.now()
    starting = starting or timezone.localdate()
    zone = timezone.get_current_timezone()
    if not wall_time_exists(starting, opens, zone):
        # The series repeats the wall-clock time of its first start, which must exist: opening in
        # the hour the clocks skip, the hours begin the next day.
        starting += timedelta(days=1)
    start = datetime.combine(starting, opens, tzinfo=zone)
    opens_minute, closes_minute = rules.minutes_of_day(opens, closes)
    # The event's real length is the wall-clock length of every occurrence (see
    # `selectors.machine_event_spans`), so it is added in UTC even when `starting` is a
    # daylight-saving change day.
    end = add_duration(start, timedelta(minutes=closes_minute - opens_minute))
    with transaction.atomic():
        submission_claim(token)
        locked = Machine.objects.select_for_update(of=("self",)).get(pk=machine.pk)
        problem = rules.opening_hours_problem(
            existing=[(i.weekday, i.opens, i.closes) for i in selectors.opening_intervals(locked)],
            weekdays=weekdays,
            opens=opens,
            closes=closes,
        )
        if problem:
            raise EquipmentError(problem)
        added = [(day, opens, closes) for day in sorted(set(weekdays))]
        consequences = _judge_change(
            locked=locked,
            after=_rules_after(locked, [*_weekly_hours(locked), *added]),
            confirm=confirm,
            now=now,
        )
        event = Event.objects.create(
            calendar=machine_calendar(machine),
            title=f"{machine.name} open",
            start=start,
            end=end,
            rule=_opening_rule(weekdays),
            creator=actor,
        )
        opening = MachineEvent.objects.create(
            machine=machine, event=event, kind=MachineEvent.Kind.OPENING, created_by=actor
        )
        _carry_out(machine=locked, consequences=consequences, actor=actor, now=now)
        return opening


def opening_hours_remove(
    *,
    machine: Machine,
    opening_id: int,
    weekday: int,
    actor: User | None = None,
    token: uuid.UUID | None = None,
    confirm: str | None = None,
    now: datetime | None = None,
) -> None:
    """Close the machine on `weekday` in the hours of opening event `opening_id`.

    Hours set for several weekdays at once keep their other weekdays. Bookings to come that
    are no longer inside opening hours are cancelled with it, their members emailed, once
    confirmed (`confirm`, as `machine_save`).
    """
    now = now or clock.now()
    with transaction.atomic():
        submission_claim(token)
        locked = Machine.objects.select_for_update(of=("self",)).get(pk=machine.pk)
        opening = (
            MachineEvent.objects.filter(
                machine=machine, kind=MachineEvent.Kind.OPENING, pk=opening_id
            )
            .select_related("event__rule")
            .first()
        )
        weekdays = selectors.opening_weekdays(opening.event) if opening else []
        if opening is None or weekday not in weekdays:
            raise EquipmentError(_("Those opening hours were already removed."))
        remaining = [
            (i.weekday, i.opens, i.closes)
            for i in selectors.opening_intervals(locked)
            if (i.opening_id, i.weekday) != (opening_id, weekday)
        ]
        consequences = _judge_change(
            locked=locked, after=_rules_after(locked, remaining), confirm=confirm, now=now
        )
        weekdays.remove(weekday)
        if weekdays:
            opening.event.rule = _opening_rule(weekdays)
            opening.event.save(update_fields=["rule"])
        else:
            opening.event.delete()
        _carry_out(machine=locked, consequences=consequences, actor=actor, now=now)


@in_zone_of("machine")
def maintenance_window_add(
    *,
    machine: Machine,
    start: datetime,
    end: datetime,
    reason: str,
    actor: User | None = None,
    repeat_weekly_until: datetime | None = None,
) -> MachineEvent:
    """Block the machine for maintenance once, or every week until `repeat_weekly_until`."""
    reason = reason.strip()
    if end <= start:
        raise EquipmentError(_("A maintenance window must end after it starts."))
    if not reason:
        raise EquipmentError(_("Say what the maintenance is for; members see it on the calendar."))
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


def _change_state(
    *, locked: Machine, state: str, reason: str, actor: User | None
) -> MachineStateChange:
    """Record and apply a state change of a machine locked by the caller, and tell the gates
    (and, leaving service, whoever listens for it: bookings tell their members)."""
    change = MachineStateChange.objects.create(
        machine=locked, from_state=locked.state, to_state=state, reason=reason, actor=actor
    )
    locked.state = state
    locked.state_reason = "" if state == MachineState.IN_SERVICE else reason
    locked.save(update_fields=["state", "state_reason"])
    if state == MachineState.IN_SERVICE:
        gates().machines_changed(machines=[locked])
    else:
        gates().machine_left_service(machine=locked)
        events.emit(events.MACHINE_OUT_OF_SERVICE, locked)
        signals.machine_out_of_service.send(sender=Machine, machine=locked, reason=reason)
    return change


def machine_set_state(
    *,
    machine: Machine,
    state: str,
    reason: str,
    actor: User | None,
    token: uuid.UUID | None = None,
) -> MachineStateChange:
    """Take a machine out of service, back in, or retire it; maintainers and staff, logged.

    A machine with an open safety report comes back only when the report is closed.
    """
    reason = reason.strip()
    if state not in MachineState.values:
        raise EquipmentError(_("%(state)r is not a machine state.") % {"state": state})
    if actor is not None and not selectors.user_may_service(actor, machine):
        raise EquipmentError(_("Only this machine's maintainers and staff can change its state."))
    if state != MachineState.IN_SERVICE and not reason:
        raise EquipmentError(_("Say why the machine is out of service; members see the reason."))
    with transaction.atomic():
        submission_claim(token)
        locked = Machine.objects.select_for_update().get(pk=machine.pk)
        if locked.state == state:
            raise EquipmentError(
                _("%(machine)s is already %(state)s.")
                % {"machine": locked.name, "state": locked.get_state_display().lower()}
            )
        if (
            state == MachineState.IN_SERVICE
            and selectors.machine_safety_reports_open(locked).exists()
        ):
            raise EquipmentError(
                _(
                    "%(machine)s has an open safety report: close it (saying what was done) to put "
                    "the machine back in service."
                )
                % {"machine": locked.name}
            )
        change = _change_state(locked=locked, state=state, reason=reason, actor=actor)
    machine.state, machine.state_reason = locked.state, locked.state_reason
    return change


# How much of a safety report's text becomes the machine's out-of-service reason members read.
SAFETY_REASON_CHARS = 200


def problem_report_create(
    *,
    machine: Machine,
    reporter: User,
    description: str,
    severity: str = Severity.MINOR,
    token: uuid.UUID | None = None,
) -> ProblemReport:
    """File a report; the machine's maintainers are emailed. A safety report takes the machine
    out of service in the same transaction (the gates switch it off, bookings are told) until
    a maintainer closes it."""
    description = description.strip()
    if not description:
        raise EquipmentError(_("Describe the problem so staff can fix it."))
    if severity not in Severity.values:
        raise EquipmentError(_("%(severity)r is not a severity.") % {"severity": severity})
    with transaction.atomic():
        submission_claim(token)
        change = None
        if severity == Severity.SAFETY:
            locked = Machine.objects.select_for_update().get(pk=machine.pk)
            if locked.state == MachineState.IN_SERVICE:
                change = _change_state(
                    locked=locked,
                    state=MachineState.OUT_OF_SERVICE,
                    reason=_("Safety report: %(description)s")
                    % {"description": _shorten(description, SAFETY_REASON_CHARS)},
                    actor=reporter,
                )
            machine.state, machine.state_reason = locked.state, locked.state_reason
        report = ProblemReport.objects.create(
            machine=machine,
            reporter=reporter,
            description=description,
            severity=severity,
            state_change=change,
        )
        notifications.send_problem_report.delay_on_commit(report.pk)
    return report


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _latest_change_was_a_report(machine: Machine) -> bool:
    latest = machine.state_changes.order_by("-created_at", "-id").first()
    return latest is not None and ProblemReport.objects.filter(state_change=latest).exists()


def problem_report_resolve(
    *, report: ProblemReport, actor: User, resolution: str, token: uuid.UUID | None = None
) -> ProblemReport:
    """Close a report. Closing the last open safety report of a machine a safety report took
    out of service (and nobody changed since) puts it back in service."""
    if not selectors.user_may_service(actor, report.machine):
        raise EquipmentError(_("Only this machine's maintainers and staff can close its reports."))
    resolution = resolution.strip()
    if report.is_safety and not resolution:
        raise EquipmentError(_("Say what was done about the safety problem before closing it."))
    with transaction.atomic():
        submission_claim(token)
        machine = Machine.objects.select_for_update().get(pk=report.machine_id)
        locked = ProblemReport.objects.select_for_update().get(pk=report.pk)
        if locked.resolved_at is not None:
            raise EquipmentError(_("This report is already closed."))
        locked.resolved_at = timezone.now()
        locked.resolved_by = actor
        locked.resolution = resolution
        locked.save()
        if (
            locked.is_safety
            and machine.state == MachineState.OUT_OF_SERVICE
            and not selectors.machine_safety_reports_open(machine).exists()
            and _latest_change_was_a_report(machine)
        ):
            _change_state(
                locked=machine,
                state=MachineState.IN_SERVICE,
                reason=(_("Safety report closed: %(resolution)s") % {"resolution": resolution})[
                    :500
                ],
                actor=actor,
            )
    return locked


def machine_label_svg(url: str) -> str:
    """An SVG QR code of `url` (the machine page) for a printable label."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()
