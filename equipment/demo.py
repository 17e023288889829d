"""Demo machines: two laser cutters, a CNC router and two 3D printers, with realistic rules."""

from __future__ import annotations

from datetime import date, time, timedelta

from django.utils import timezone

from core.time import add_duration, week_start
from equipment import services
from equipment.models import DayPassProduct, Machine, MachineEvent
from locations.models import Location, default_location
from locations.services import area_ensure
from membership.models import User
from training.models import Certification, LocalCheckout

CERTIFICATIONS = {
    "general-shop-safety": "General shop safety",
    "laser-cutter": "Laser cutter",
    "cnc-router": "CNC router",
    "3d-printer": "3D printer",
}

# The gate demo's machine has no opening hours, so `make gate-demo` works at any hour.
OPEN_AROUND_THE_CLOCK = {"laser-a"}

MACHINES = [
    # Raleigh's own machines (the others stand in Menlo Park, the default location). Its laser
    # needs Raleigh's local check-out on top of the chain-wide certification.
    dict(
        slug="raleigh-laser",
        name="Raleigh laser cutter",
        location="raleigh",
        area="Laser room",
        certification="laser-cutter",
        checkout="Raleigh laser check-out",
        description="80 W CO2 laser, 900 x 600 mm bed. Raleigh's staff show its rotary axis.",
        slot_minutes=30,
        min_minutes=30,
        max_minutes=180,
        book_ahead_days=14,
        weekly_hours_per_member=6,
        daily_bookings_per_member=2,
        buffer_minutes=15,
    ),
    dict(
        slug="raleigh-router",
        name="Raleigh CNC router",
        location="raleigh",
        area="Wood shop",
        certification="cnc-router",
        description="5 x 10 ft CNC router with a vacuum table.",
        slot_minutes=60,
        min_minutes=60,
        max_minutes=240,
        book_ahead_days=21,
        weekly_hours_per_member=8,
        daily_bookings_per_member=1,
        buffer_minutes=30,
    ),
    dict(
        slug="laser-a",
        name="Laser cutter A",
        area="Laser room",
        certification="laser-cutter",
        description="60 W CO2 laser, 600 x 400 mm bed. Wood, acrylic, paper, leather; no PVC.",
        slot_minutes=30,
        min_minutes=30,
        max_minutes=180,
        book_ahead_days=14,
        weekly_hours_per_member=6,
        daily_bookings_per_member=2,
        buffer_minutes=15,
    ),
    dict(
        slug="laser-b",
        name="Laser cutter B",
        area="Laser room",
        certification="laser-cutter",
        description="40 W CO2 laser, 500 x 300 mm bed. Good for engraving.",
        slot_minutes=30,
        min_minutes=30,
        max_minutes=120,
        book_ahead_days=14,
        weekly_hours_per_member=6,
        daily_bookings_per_member=2,
        buffer_minutes=15,
    ),
    dict(
        slug="cnc-router",
        name="CNC router",
        area="Wood shop",
        certification="cnc-router",
        description="4 x 8 ft CNC router with dust extraction. Bring your own bits or buy at the desk.",
        slot_minutes=60,
        min_minutes=60,
        max_minutes=240,
        book_ahead_days=21,
        weekly_hours_per_member=8,
        daily_bookings_per_member=1,
        buffer_minutes=30,
    ),
    dict(
        slug="printer-1",
        name="3D printer 1",
        area="Electronics lab",
        certification="3d-printer",
        description="Prusa MK4, PLA and PETG.",
        slot_minutes=60,
        min_minutes=60,
        max_minutes=720,
        book_ahead_days=7,
        weekly_hours_per_member=24,
        daily_bookings_per_member=2,
        buffer_minutes=0,
    ),
    dict(
        slug="printer-2",
        name="3D printer 2",
        area="Electronics lab",
        certification="3d-printer",
        description="Bambu X1C, multi-material.",
        slot_minutes=60,
        min_minutes=60,
        max_minutes=720,
        book_ahead_days=7,
        weekly_hours_per_member=24,
        daily_bookings_per_member=2,
        buffer_minutes=0,
    ),
]


def seed() -> list[str]:
    """Create the demo machines, opening hours and a weekly maintenance window if missing."""
    certifications = {
        slug: Certification.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in CERTIFICATIONS.items()
    }
    staff = User.objects.filter(email="staff@toolgate.test").first()
    raleigh_staff = User.objects.filter(email="raleigh-staff@toolgate.test").first()
    today = timezone.localdate()
    monday = week_start(today)
    for spec in MACHINES:
        spec = dict(spec)
        certification = certifications[spec.pop("certification")]
        location = (
            Location.objects.filter(slug=spec.pop("location", "")).first() or default_location()
        )
        area = area_ensure(location=location, name=spec.pop("area"))
        checkout_name = spec.pop("checkout", "")
        if checkout_name:
            spec["required_checkout"] = LocalCheckout.objects.get_or_create(
                location=location, name=checkout_name
            )[0]
        machine, created = Machine.objects.get_or_create(
            slug=spec.pop("slug"),
            defaults={
                **spec,
                "required_certification": certification,
                "location": location,
                "area": area,
            },
        )
        if not created:
            continue
        if machine.slug not in OPEN_AROUND_THE_CLOCK:
            _open_shop_hours(machine, monday)
        local_staff = raleigh_staff if location.slug == "raleigh" else staff
        if local_staff is not None:
            machine.maintainers.add(local_staff)
    cnc = Machine.objects.get(slug="cnc-router")
    if not cnc.events.filter(kind=MachineEvent.Kind.MAINTENANCE).exists():
        zone = timezone.get_current_timezone()
        start = timezone.datetime.combine(monday, time(10), tzinfo=zone)
        services.maintenance_window_add(
            machine=cnc,
            start=start,
            end=add_duration(start, timedelta(hours=1)),
            reason="Weekly lubrication and dust bag change",
            actor=staff,
            repeat_weekly_until=start + timedelta(weeks=52),
        )
    passes = _demo_day_passes(certifications["3d-printer"])
    return [
        f"Machines: {', '.join(Machine.objects.values_list('name', flat=True))}",
        f"Day passes: {', '.join(passes)}",
    ]


def _demo_day_passes(printing: Certification) -> list[str]:
    """A laser day pass (Laser cutter A) and a 3D printing one (every printer), in Menlo Park."""
    home = default_location()
    laser, created = DayPassProduct.objects.get_or_create(
        name="Laser day pass",
        defaults={"price_minor": 4500, "description": "A day on Laser cutter A."},
    )
    if created:
        laser.machines.set(Machine.objects.filter(slug="laser-a"))
        laser.locations.set([home])
    printers, created = DayPassProduct.objects.get_or_create(
        name="3D printing day pass",
        defaults={"price_minor": 2500, "description": "A day on any 3D printer."},
    )
    if created:
        printers.certifications.set([printing])
        printers.locations.set([home])
    return [str(laser), str(printers)]


def _open_shop_hours(machine: Machine, monday: date) -> None:
    """Weekdays 10:00-22:00, weekends 10:00-18:00."""
    services.opening_hours_add(
        machine=machine,
        weekdays=[0, 1, 2, 3, 4],
        opens=time(10),
        closes=time(22),
        starting=monday,
    )
    services.opening_hours_add(
        machine=machine, weekdays=[5, 6], opens=time(10), closes=time(18), starting=monday
    )
