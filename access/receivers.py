"""Where other apps' hooks reach the gates: losing access switches running machines off."""

from __future__ import annotations

from access import allowlist, services
from bookings import hooks as booking_hooks
from equipment import hooks as equipment_hooks
from membership import hooks as membership_hooks
from membership import roles
from membership.selectors import member_may_use_machines
from training import hooks as training_hooks


def on_member_access_lost(sender, member, **kwargs) -> None:
    stopped = services.gate_switch_off_member(
        member=member,
        reason="access_lost",
        message="Your membership or badge no longer allows machine use.",
    )
    _refresh_allowlists(stopped)


def on_badge_disabled(sender, badge, **kwargs) -> None:
    if not member_may_use_machines(badge.member):
        return  # their last badge: member_access_lost stops and delists the member as a whole
    machines = list(services.machines_member_may_be_using(badge.member))
    for machine in machines:
        services.gate_switch_off(
            machine=machine,
            reason="badge_disabled",
            message=f"Badge {badge.uid} was disabled: {badge.disabled_reason}",
            only_badges=[badge.uid],
        )
    _refresh_allowlists(machines)


def on_certification_revoked(sender, member, certification, **kwargs) -> None:
    stopped = services.gate_switch_off_member(
        member=member,
        reason="certification_revoked",
        message=f"Your {certification} certification was revoked.",
        machines=list(certification.machines.all()),
    )
    _refresh_allowlists(stopped)


def _refresh_allowlists(machines) -> None:
    """The member's windows leave those gates' offline allow-lists now, not at the next refresh:
    a gate that cannot reach the site must not let them on."""
    for machine in machines:
        allowlist.allowlist_refresh_machine(machine)


def on_booking_cancelled(sender, booking, **kwargs) -> None:
    services.gate_switch_off_booking(
        booking=booking, reason="booking_cancelled", message="Your booking was cancelled."
    )


def on_booking_extended(sender, booking, **kwargs) -> None:
    services.gate_extend_booking(booking=booking)


def on_machine_bookings_changed(sender, machine, **kwargs) -> None:
    allowlist.allowlist_refresh_machine(machine)


def on_machine_left_service(sender, machine, **kwargs) -> None:
    services.gate_switch_off(
        machine=machine,
        reason="out_of_service",
        message=f"{machine} was taken out of service: {machine.state_reason}",
    )


def connect() -> None:
    membership_hooks.member_access_lost.connect(on_member_access_lost, dispatch_uid="access-lost")
    membership_hooks.badge_disabled.connect(on_badge_disabled, dispatch_uid="access-badge")
    training_hooks.certification_revoked.connect(
        on_certification_revoked, dispatch_uid="access-cert-revoked"
    )
    booking_hooks.booking_cancelled.connect(on_booking_cancelled, dispatch_uid="access-booking")
    booking_hooks.booking_extended.connect(on_booking_extended, dispatch_uid="access-extend")
    booking_hooks.machine_bookings_changed.connect(
        on_machine_bookings_changed, dispatch_uid="access-allowlist"
    )
    equipment_hooks.machine_left_service.connect(
        on_machine_left_service, dispatch_uid="access-left-service"
    )


def grant_gate_permissions(**kwargs) -> None:
    roles.grant_role_permissions(roles.STAFF, ["access.manage_gates"])
