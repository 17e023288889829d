"""What each event says: the JSON `data` of a Standard Webhooks payload, and the one sentence a chat
channel (Slack, Discord) shows. Members appear by id and display name only, never their email."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import Model
from django.utils import timezone

from access.models import AccessEvent, AccessSource, GateDevice, UsageSession
from access.policy import Reason
from bookings.models import Booking
from equipment.models import Machine
from membership.models import Member, MembershipChange
from training.models import MemberCertification
from webhooks.events import ACCESS_DECIDED, EventType

Data = dict[str, Any]


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _local(moment: datetime | None, machine: Machine) -> str:
    """`moment` on the wall clock of the machine's location (a chain's locations differ)."""
    return (
        timezone.localtime(moment, machine.location.zone).strftime("%a %d %b %H:%M")
        if moment
        else ""
    )


def _member(member: Member | None) -> Data | None:
    return {"id": member.pk, "name": member.display_name} if member else None


def _machine(machine: Machine) -> Data:
    return {
        "id": machine.pk,
        "slug": machine.slug,
        "name": machine.name,
        "state": machine.state,
        "location": machine.location.slug,
    }


def _booking(booking: Booking) -> Data:
    return {
        "booking": {
            "id": booking.pk,
            "state": booking.state,
            "start": _at(booking.start),
            "end": _at(booking.end),
            "checked_in_at": _at(booking.checked_in_at),
            "cancelled_at": _at(booking.cancelled_at),
        },
        "machine": _machine(booking.machine),
        "member": _member(booking.member),
    }


def _access(event: AccessEvent) -> Data:
    return {
        "access_event": {
            "id": event.pk,
            "at": _at(event.at),
            "source": event.source,
            "allowed": event.allowed,
            "reason": event.reason,
            "grant_end": _at(event.grant_end),
            "booking_id": event.booking_id,
        },
        "machine": _machine(event.machine),
        "member": _member(event.member),
    }


def _usage(session: UsageSession) -> Data:
    return {
        "usage_session": {
            "id": session.pk,
            "started_at": _at(session.started_at),
            "grant_end": _at(session.grant_end),
            "ended_at": _at(session.ended_at),
            "end_reason": session.end_reason,
            "booking_id": session.booking_id,
        },
        "machine": _machine(session.machine),
        "member": _member(session.member),
    }


def _membership(change: MembershipChange) -> Data:
    return {
        "membership": {
            "id": change.membership_id,
            "from_status": change.from_status,
            "status": change.to_status,
            "period_end": _at(change.period_end),
            "cause": change.cause,
            "reason": change.reason,
        },
        "member": _member(change.membership.member),
    }


def _certification(grant: MemberCertification) -> Data:
    return {
        "certification": {
            "id": grant.pk,
            "name": str(grant.certification),
            "certification_id": grant.certification_id,
            "granted_at": _at(grant.granted_at),
            "expires_at": _at(grant.expires_at),
            "revoked_at": _at(grant.revoked_at),
            "revoke_reason": grant.revoke_reason,
        },
        "member": _member(grant.member),
    }


def _machine_state(machine: Machine) -> Data:
    return {"machine": {**_machine(machine), "reason": machine.state_reason}}


def _gate(device: GateDevice) -> Data:
    return {
        "gate": {
            "device_id": device.device_id,
            "last_seen": _at(device.last_seen),
            "relay_on": device.relay_on,
        },
        "machine": _machine(device.machine),
    }


def _span(booking: Booking) -> str:
    return (
        f"{_local(booking.start, booking.machine)} to {_local(booking.end, booking.machine)[-5:]}"
    )


def _access_sentence(event: AccessEvent) -> str:
    who = event.member.display_name if event.member else "An unknown badge"
    if event.allowed:
        return f"{who} switched on {event.machine.name}."
    try:
        why = Reason(event.reason).sentence
    except ValueError:
        why = event.reason
    return f"{who} was refused at {event.machine.name}: {why}"


# Event type -> (data, chat sentence).
DESCRIBE: dict[str, tuple[Callable[[Any], Data], Callable[[Any], str]]] = {
    EventType.BOOKING_CREATED: (
        _booking,
        lambda b: f"{b.machine.name} booked {_span(b)}.",
    ),
    EventType.BOOKING_CANCELLED: (
        _booking,
        lambda b: f"{b.machine.name} is free again {_span(b)} (booking cancelled).",
    ),
    EventType.BOOKING_CHECKED_IN: (
        _booking,
        lambda b: f"{b.member.display_name} checked in at {b.machine.name}.",
    ),
    EventType.BOOKING_NO_SHOW: (
        _booking,
        lambda b: (
            f"{b.machine.name} is free: nobody came for the {_local(b.start, b.machine)} booking."
        ),
    ),
    EventType.ACCESS_GRANTED: (_access, _access_sentence),
    EventType.ACCESS_REFUSED: (_access, _access_sentence),
    EventType.USAGE_STARTED: (_usage, lambda s: f"{s.machine.name} is in use."),
    EventType.USAGE_ENDED: (_usage, lambda s: f"{s.machine.name} is free."),
    EventType.MEMBERSHIP_CHANGED: (
        _membership,
        lambda c: (
            f"Membership of {c.membership.member.display_name} is now "
            f"{c.get_to_status_display().lower()}."
        ),
    ),
    EventType.CERTIFICATION_GRANTED: (
        _certification,
        lambda g: f"{g.member.display_name} is now certified for {g.certification}.",
    ),
    EventType.CERTIFICATION_EXPIRED: (
        _certification,
        lambda g: f"{g.member.display_name}'s {g.certification} certification expired.",
    ),
    EventType.CERTIFICATION_REVOKED: (
        _certification,
        lambda g: f"{g.member.display_name}'s {g.certification} certification was revoked.",
    ),
    EventType.MACHINE_OUT_OF_SERVICE: (
        _machine_state,
        lambda m: f"{m.name} is out of service: {m.state_reason}",
    ),
    EventType.GATE_OFFLINE: (
        _gate,
        lambda d: f"The gate of {d.machine.name} ({d.device_id}) went offline.",
    ),
}


def event_type_of(kind: str, subject: Model) -> str | None:
    """The event type an emitted `kind` about `subject` is, or None when it is none at all (an
    allow-list build's decisions are forecasts, not scans)."""
    if kind == ACCESS_DECIDED:
        assert isinstance(subject, AccessEvent)
        if subject.source == AccessSource.ALLOWLIST:
            return None
        return EventType.ACCESS_GRANTED if subject.allowed else EventType.ACCESS_REFUSED
    return kind if kind in DESCRIBE else None


def describe(event_type: str, subject: Model) -> tuple[Data, str]:
    data, sentence = DESCRIBE[event_type]
    return data(subject), sentence(subject)
