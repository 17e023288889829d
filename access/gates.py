"""Gate actions: signed switch-offs and extends, emergency stops, and the lists that follow.

Each queues outbox rows in the caller's transaction (`access.outbox`); the bridge delivers them
until the gates acknowledge. `SiteGates` is the implementation of `core.gates.GateOutbox`
through which lower apps reach these actions inside their own transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from access.errors import AccessError
from access.models import EmergencyStop, GateDevice, GateMessage
from access.outbox import outbox_allowlist, outbox_command
from bookings.models import Booking
from bookings.states import ACTIVE_STATES
from core import clock
from equipment.models import Machine
from gate_agent import protocol
from locations.zones import zone_of
from membership.models import Badge, Member, User
from staffing.services import require_at_location


def gate_command_queue(
    *,
    devices: Iterable[GateDevice],
    action: str,
    reason: str,
    message: str,
    actor: User | None = None,
    only_badges: Sequence[str] = (),
    grant_end: datetime | None = None,
) -> list[GateMessage]:
    """Queue a signed command to each of `devices`. With `only_badges` (UIDs), the gates act
    only on a session started with one of them."""
    return [
        outbox_command(
            device=device,
            action=action,
            reason=reason,
            message=message,
            actor=actor,
            only_badges=only_badges,
            grant_end=grant_end,
        )
        for device in devices
    ]


def allowlists_refresh(machines: Iterable[Machine]) -> None:
    """The machines' gates get new offline allow-lists, built when the bridge sends them."""
    outbox_allowlist(devices=GateDevice.objects.filter(machine__in=list(machines)))


def gate_switch_off(
    *,
    machine: Machine,
    reason: str,
    message: str,
    actor: User | None = None,
    only_badges: Sequence[str] = (),
) -> list[GateMessage]:
    """Tell the gates of `machine` to switch off now (only sessions of `only_badges`, if given)."""
    return gate_command_queue(
        devices=machine.gate_devices.filter(enabled=True),
        action=protocol.ACTION_SWITCH_OFF,
        reason=reason,
        message=message,
        actor=actor,
        only_badges=only_badges,
    )


def _recent_badges(member: Member) -> list[str]:
    """The member's badges a running session can have started with, newest first."""
    badges = member.badges.order_by("-issued_at").values_list("uid", flat=True)
    return list(badges[: protocol.MAX_COMMAND_BADGES])


def machines_member_may_be_using(
    member: Member, *, at: datetime | None = None
) -> QuerySet[Machine]:
    """Machines on which `member` holds a grant that has not ended, or a session a gate reported
    running (its grant may have been extended since): where their switch-offs must go."""
    at = at or clock.now()
    granted = Q(
        access_events__member=member,
        access_events__allowed=True,
        access_events__grant_end__gt=at,
    )
    running = Q(usage_sessions__member=member, usage_sessions__ended_at__isnull=True)
    return Machine.objects.filter(granted | running).distinct()


def machines_listing(member: Member, *, at: datetime | None = None) -> QuerySet[Machine]:
    """Machines whose offline allow-lists may carry `member`: an active booking not yet ended,
    or the member maintains it."""
    at = at or clock.now()
    booked = Q(bookings__member=member, bookings__state__in=ACTIVE_STATES, bookings__end__gt=at)
    return Machine.objects.filter(booked | Q(maintainers=member.user_id)).distinct()


def gate_switch_off_member(
    *, member: Member, reason: str, message: str, machines: Iterable[Machine] | None = None
) -> list[Machine]:
    """Switch off every machine `member` may be running (optionally only among `machines`);
    their gates' allow-lists follow. Returns the machines told."""
    running = machines_member_may_be_using(member)
    if machines is not None:
        running = running.filter(pk__in=[m.pk for m in machines])
    stopped = list(running)
    badges = _recent_badges(member)
    for machine in stopped:
        gate_switch_off(machine=machine, reason=reason, message=message, only_badges=badges)
    allowlists_refresh({*stopped, *machines_listing(member)})
    return stopped


def gate_extend_booking(*, booking: Booking) -> list[GateMessage]:
    """A booking made longer while its member works: their session runs to the new end."""
    if not machines_member_may_be_using(booking.member).filter(pk=booking.machine_id).exists():
        return []
    return gate_command_queue(
        devices=booking.machine.gate_devices.filter(enabled=True),
        action=protocol.ACTION_EXTEND,
        reason="booking_extended",
        message=_("Your booking now ends at %(time)s.")
        % {"time": f"{timezone.localtime(booking.end, zone_of(booking)):%H:%M}"},
        only_badges=_recent_badges(booking.member),
        grant_end=booking.end,
    )


def gate_emergency_stop(*, machine: Machine, actor: User) -> list[GateMessage]:
    """Switch `machine` off now and lock it: every scan is refused, online and offline (its
    gates' lists are emptied), until staff clear the stop. Pressing it again while it is locked
    sends the switch-off again."""
    require_at_location(user=actor, obj=machine, what="emergency stop")
    with transaction.atomic():
        if not EmergencyStop.objects.filter(machine=machine, cleared_at__isnull=True).exists():
            try:
                with transaction.atomic():
                    EmergencyStop.objects.create(machine=machine, pressed_by=actor)
            except IntegrityError:
                pass  # pressed at the same moment by someone else: locked all the same
        messages = gate_switch_off(
            machine=machine,
            reason="emergency_stop",
            message=_("Emergency stop by %(actor)s") % {"actor": actor},
            actor=actor,
        )
        allowlists_refresh([machine])
    return messages


def gate_emergency_clear(*, machine: Machine, actor: User, reason: str) -> EmergencyStop:
    """Staff release an emergency-stopped machine, saying why; scans are decided again."""
    reason = reason.strip()
    if not reason:
        raise AccessError(_("Say why the emergency stop is cleared; the reason is kept."))
    require_at_location(user=actor, obj=machine, what="clear an emergency stop")
    with transaction.atomic():
        stop = (
            EmergencyStop.objects.select_for_update()
            .filter(machine=machine, cleared_at__isnull=True)
            .first()
        )
        if stop is None:
            raise AccessError(_("%(machine)s is not emergency-stopped.") % {"machine": machine})
        stop.cleared_at, stop.cleared_by, stop.clear_reason = timezone.now(), actor, reason
        stop.save(update_fields=["cleared_at", "cleared_by", "clear_reason"])
        allowlists_refresh([machine])
    return stop


class SiteGates:
    """`core.gates.GateOutbox`: what lower apps' changes mean for the gates."""

    def member_lost_access(
        self,
        *,
        member: Member,
        reason: str,
        message: str,
        machines: Iterable[Machine] | None = None,
    ) -> None:
        gate_switch_off_member(member=member, reason=reason, message=message, machines=machines)

    def badge_disabled(self, *, badge: Badge) -> None:
        machines = list(machines_member_may_be_using(badge.member))
        for machine in machines:
            gate_switch_off(
                machine=machine,
                reason="badge_disabled",
                message=_("Badge %(badge)s was disabled: %(reason)s")
                % {"badge": badge.uid, "reason": badge.disabled_reason},
                only_badges=[badge.uid],
            )
        allowlists_refresh({*machines, *machines_listing(badge.member)})

    def booking_cancelled(self, *, booking: Booking) -> None:
        gate_switch_off_member(
            member=booking.member,
            reason="booking_cancelled",
            message=_("Your booking was cancelled."),
            machines=[booking.machine],
        )
        allowlists_refresh([booking.machine])

    def booking_finished(self, *, booking: Booking) -> None:
        gate_switch_off_member(
            member=booking.member,
            reason="booking_finished",
            message=_("You ended your booking. Thank you!"),
            machines=[booking.machine],
        )
        allowlists_refresh([booking.machine])

    def booking_extended(self, *, booking: Booking) -> None:
        gate_extend_booking(booking=booking)
        allowlists_refresh([booking.machine])

    def machine_left_service(self, *, machine: Machine) -> None:
        gate_switch_off(
            machine=machine,
            reason="out_of_service",
            message=f"{machine} was taken out of service: {machine.state_reason}",
        )
        allowlists_refresh([machine])

    def machines_changed(self, *, machines: Iterable[Machine]) -> None:
        allowlists_refresh(machines)

    def every_machine_changed(self) -> None:
        allowlists_refresh(Machine.objects.all())
