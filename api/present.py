"""Models to the API's response shapes (api.schemas), in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from access.models import AccessEvent, GateDevice, UsageSession
from api import schemas
from bookings.models import Booking
from equipment.models import Machine
from membership.models import Badge, Member
from training.models import Certification, ClassSession, Enrollment


def machine_ref(machine: Machine) -> schemas.MachineRef:
    return schemas.MachineRef(id=machine.pk, slug=machine.slug, name=machine.name)


def certification(cert: Certification | None) -> schemas.Certification | None:
    return None if cert is None else schemas.Certification(slug=cert.slug, name=cert.name)


def booking(row: Booking) -> schemas.Booking:
    return schemas.Booking(
        id=row.pk,
        machine=machine_ref(row.machine),
        member_id=row.member_id,
        start=row.start,
        end=row.end,
        state=row.state,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        checked_in_at=row.checked_in_at,
        extended_count=row.extended_count,
    )


def machine(row: Machine) -> schemas.Machine:
    return schemas.Machine(
        id=row.pk,
        slug=row.slug,
        name=row.name,
        location=schemas.Location(
            slug=row.location.slug, name=row.location.name, time_zone=row.location.time_zone
        ),
        area=row.area.name if row.area is not None else None,
        state=row.state,
        state_reason=row.state_reason,
        required_certification=certification(row.required_certification),
        slot_minutes=row.slot_minutes,
        min_minutes=row.min_minutes,
        max_minutes=row.max_minutes,
        book_ahead_days=row.book_ahead_days,
        buffer_minutes=row.buffer_minutes,
    )


def class_session(row: ClassSession, *, mine: str | None) -> schemas.ClassSession:
    cert = certification(row.certification)
    assert cert is not None
    seats_free: Any = getattr(row, "seats_free", 0)
    return schemas.ClassSession(
        id=row.pk,
        certification=cert,
        start=row.start,
        end=row.end,
        place=row.place,
        capacity=row.capacity,
        seats_free=int(seats_free),
        cancelled=row.cancelled_at is not None,
        my_enrollment=mine,
    )


def enrollment(row: Enrollment) -> schemas.Enrollment:
    return schemas.Enrollment(
        id=row.pk,
        session_id=row.session_id,
        status=row.status,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
    )


def usage(row: UsageSession) -> schemas.UsageSession:
    return schemas.UsageSession(
        id=row.pk,
        machine=machine_ref(row.machine),
        member_id=row.member_id,
        booking_id=row.booking_id,
        started_at=row.started_at,
        ended_at=row.ended_at,
        grant_end=row.grant_end,
        end_reason=row.end_reason,
    )


def member_summary(row: Member) -> schemas.MemberSummary:
    membership = getattr(row, "membership", None)
    return schemas.MemberSummary(
        id=row.pk,
        email=row.user.email,
        first_name=row.user.first_name,
        last_name=row.user.last_name,
        joined_at=row.joined_at,
        membership_status=membership.status if membership is not None else None,
    )


def badge(row: Badge) -> schemas.Badge:
    return schemas.Badge(
        id=row.pk,
        uid=row.uid,
        member_id=row.member_id,
        enabled=row.enabled,
        issued_at=row.issued_at,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
    )


def access_event(row: AccessEvent) -> schemas.AccessEvent:
    return schemas.AccessEvent(
        id=row.pk,
        at=row.at,
        source=row.source,
        badge_uid=row.badge_uid,
        device_id=row.device.device_id if row.device is not None else None,
        machine=machine_ref(row.machine),
        member_id=row.member_id,
        booking_id=row.booking_id,
        allowed=row.allowed,
        reason=row.reason,
        reason_sentence=row.reason_sentence,
        grant_end=row.grant_end,
        decision_microseconds=row.decision_microseconds,
    )


def gate(row: GateDevice) -> schemas.Gate:
    return schemas.Gate(
        device_id=row.device_id,
        machine=machine_ref(row.machine),
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        online=row.online,
        last_seen=row.last_seen,
        relay_on=row.relay_on,
        relay_grant_end=row.relay_grant_end,
        firmware=row.firmware,
    )


def span(start: datetime, end: datetime) -> schemas.Span:
    return schemas.Span(start=start, end=end)
