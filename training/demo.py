"""Demo data of the training app: certifications, a weekly safety class, single classes, members
in varied certification states, and requests for training."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from locations import zones
from locations.models import Location
from membership.models import Member, User
from training import scheduling
from training.models import (
    Certification,
    ClassSession,
    Enrollment,
    EnrollmentStatus,
    MemberCertification,
    TrainingRequest,
)

CERTIFICATIONS = [
    # slug, name, validity in months, prerequisite slugs, description
    (
        "general-shop-safety",
        "General shop safety",
        24,
        [],
        "Eye and ear protection, fire exits and extinguishers, the emergency stops, first aid.",
    ),
    (
        "laser-cutter",
        "Laser cutter",
        12,
        ["general-shop-safety"],
        "Materials that are safe to cut, focus and air assist, never leaving a job running.",
    ),
    (
        "cnc-router",
        "CNC router",
        12,
        ["general-shop-safety"],
        "Work holding, bits and feeds, the spindle's emergency stop, dust extraction.",
    ),
    (
        "3d-printer",
        "3D printer",
        None,
        ["general-shop-safety"],
        "Loading filament, bed levelling, starting and watching a print.",
    ),
]


# Class fees in minor units of SPACE_CURRENCY (a TechShop charges $30-100 per safety class).
CLASS_FEES = {
    "general-shop-safety": 3000,
    "laser-cutter": 7500,
    "cnc-router": 9000,
    "3d-printer": 3000,
}


def _member(email: str) -> Member | None:
    return Member.objects.filter(user__email=email).select_related("user").first()


def _at(days: int, hour: int, minute: int = 0) -> datetime:
    """`days` from today at the local wall-clock time `hour:minute`."""
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def seed() -> list[str]:
    """Create the demo training data if missing; a second run changes nothing."""
    certifications = {}
    created_any = False
    for slug, name, months, _, description in CERTIFICATIONS:
        certifications[slug], created = Certification.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "validity_months": months,
                "description": description,
                "class_fee_minor": CLASS_FEES.get(slug, 0),
            },
        )
        created_any |= created
    for slug, _, _, prerequisites, _ in CERTIFICATIONS:
        certifications[slug].prerequisites.add(*(certifications[p] for p in prerequisites))

    instructor = User.objects.filter(email="instructor@toolgate.test").first()
    staff = User.objects.filter(email="staff@toolgate.test").first()
    if instructor is None or staff is None or not created_any:
        return ["Training: certifications and classes are in place."]
    for certification in certifications.values():
        certification.instructors.add(instructor)

    _classes(certifications, instructor, staff)
    _member_states(certifications, instructor, staff)
    return [
        "Training: 4 certifications, a weekly General shop safety class, laser and CNC classes.",
        "  instructor@ marks yesterday's safety class on Teaching; maker@ shows every state.",
    ]


def _classes(certifications, instructor, staff) -> None:
    safety = certifications["general-shop-safety"]
    days_to_tuesday = (1 - timezone.localdate().weekday()) % 7 or 7
    scheduling.series_create(
        certification=safety,
        instructor=instructor,
        start=_at(days_to_tuesday, 18),
        end=_at(days_to_tuesday, 20),
        frequency=scheduling.Frequency.WEEKLY,
        until=None,
        capacity=8,
        place="Classroom",
        actor=staff,
    )
    scheduling.session_create(
        certification=certifications["laser-cutter"],
        instructor=instructor,
        start=_at(4, 10),
        end=_at(4, 12),
        capacity=4,
        place="Laser room",
        actor=staff,
    )
    scheduling.session_create(
        certification=certifications["cnc-router"],
        instructor=instructor,
        start=_at(10, 14),
        end=_at(10, 17),
        capacity=3,
        place="Wood shop",
        actor=staff,
    )
    # Raleigh's own laser class, at 18:00 on Raleigh's clock (15:00 in Menlo Park).
    raleigh = Location.objects.filter(slug="raleigh").first()
    if raleigh is not None:
        with zones.at(raleigh):
            scheduling.session_create(
                certification=certifications["laser-cutter"],
                instructor=instructor,
                start=_at(5, 18),
                end=_at(5, 20),
                capacity=4,
                location=raleigh,
                area=raleigh.areas.filter(name="Laser room").first(),
                actor=staff,
            )
    # Yesterday's safety class, with newbie@ in a seat: the instructor can mark the roster.
    past = ClassSession.objects.create(
        certification=safety,
        instructor=instructor,
        start=_at(-1, 18),
        end=_at(-1, 20),
        capacity=8,
        place="Classroom",
    )
    newbie = _member("newbie@toolgate.test")
    if newbie is not None:
        Enrollment.objects.create(
            session=past,
            member=newbie,
            status=EnrollmentStatus.ENROLLED,
            created_at=past.start - timedelta(days=5),
        )


def _grant(member, certification, instructor, *, ago: relativedelta, note="Demo data"):
    granted_at = timezone.now() - ago
    return MemberCertification.objects.create(
        member=member,
        certification=certification,
        granted_by=instructor,
        granted_at=granted_at,
        expires_at=granted_at + relativedelta(months=certification.validity_months)
        if certification.validity_months
        else None,
        note=note,
    )


def _member_states(certifications, instructor, staff) -> None:
    maker = _member("maker@toolgate.test")
    late = _member("late@toolgate.test")
    newbie = _member("newbie@toolgate.test")
    now = timezone.now()
    if maker is not None:
        _grant(
            maker, certifications["general-shop-safety"], instructor, ago=relativedelta(months=3)
        )
        _grant(maker, certifications["laser-cutter"], instructor, ago=relativedelta(months=2))
        # Expires in about two weeks: "expiring soon", and the reminder command emails it.
        _grant(
            maker, certifications["cnc-router"], instructor, ago=relativedelta(months=11, days=16)
        )
        printer = _grant(
            maker, certifications["3d-printer"], instructor, ago=relativedelta(months=1)
        )
        printer.revoked_at = now - timedelta(days=3)
        printer.revoked_by = staff
        printer.revoke_reason = "Left a print running overnight unattended."
        printer.save()
    local = _member("local@toolgate.test")  # Menlo Park only: refused at Raleigh's machines
    if local is not None:
        _grant(
            local, certifications["general-shop-safety"], instructor, ago=relativedelta(months=4)
        )
        _grant(local, certifications["laser-cutter"], instructor, ago=relativedelta(months=3))
    if late is not None:
        _grant(late, certifications["general-shop-safety"], instructor, ago=relativedelta(months=6))
        # Expired a month ago: shown as history, no longer valid at the gate.
        _grant(late, certifications["laser-cutter"], instructor, ago=relativedelta(months=13))
        TrainingRequest.objects.create(
            member=late,
            certification=certifications["cnc-router"],
            created_at=now - timedelta(days=9),
        )
        TrainingRequest.objects.create(
            member=late,
            certification=certifications["laser-cutter"],
            created_at=now - timedelta(days=2),
        )
    if newbie is not None:
        TrainingRequest.objects.create(
            member=newbie,
            certification=certifications["3d-printer"],
            created_at=now - timedelta(days=5),
        )
