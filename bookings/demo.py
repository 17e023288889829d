"""Demo bookings this week: the maker on a laser cutter, the instructor on the CNC router."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from bookings import services
from bookings.errors import BookingRejected
from bookings.models import Booking
from core.time import add_duration
from equipment.models import Machine
from membership.models import Member
from training.models import Certification, MemberCertification

# (email, machine slug, certification slug, [(day offset from today, hour, hours)])
PLAN = [
    ("maker@toolgate.test", "laser-a", "laser-cutter", [(1, 14, 2), (2, 18, 1)]),
    ("instructor@toolgate.test", "cnc-router", "cnc-router", [(1, 15, 2)]),
    ("instructor@toolgate.test", "laser-b", "laser-cutter", [(0, 20, 1), (3, 11, 1)]),
    ("staff@toolgate.test", "laser-a", "laser-cutter", [(1, 11, 1)]),
]


def seed() -> list[str]:
    """Grant the demo certifications the bookings need, then book if nothing is booked yet."""
    granter = Member.objects.filter(user__email="staff@toolgate.test").first()
    if granter is None:
        return []
    lines = []
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    for email, slug, cert_slug, slots in PLAN:
        member = Member.objects.filter(user__email=email).first()
        machine = Machine.objects.filter(slug=slug).first()
        certification = Certification.objects.filter(slug=cert_slug).first()
        if member is None or machine is None or certification is None:
            continue
        if not MemberCertification.objects.filter(
            member=member, certification=certification, revoked_at__isnull=True
        ).exists():
            MemberCertification.objects.create(
                member=member,
                certification=certification,
                granted_by=granter.user,
                note="Demo data",
            )
        if Booking.objects.filter(member=member, machine=machine, end__gt=timezone.now()).exists():
            continue
        for offset, hour, hours in slots:
            start = datetime.combine(today + timedelta(days=offset), time(hour), tzinfo=zone)
            try:
                services.booking_create(
                    member=member,
                    machine=machine,
                    start=start,
                    end=add_duration(start, timedelta(hours=hours)),
                    actor=member.user,
                )
            except BookingRejected as rejected:
                lines.append(f"  (demo booking skipped: {rejected.message})")
    count = Booking.objects.filter(end__gt=timezone.now()).count()
    return [f"Bookings coming up: {count}", *lines]
