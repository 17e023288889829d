"""Demo data of the membership app: staff, an instructor, members in every state, plan, waiver."""

from __future__ import annotations

from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Group
from django.utils import timezone

from locations.models import Location
from membership import roles, services
from membership.billing.catalogue import CreditPack, Material
from membership.billing.ledger import ledger_record
from membership.billing.models import LedgerEntry
from membership.models import (
    Badge,
    ChangeCause,
    Member,
    MembershipStatus,
    Plan,
    User,
    Waiver,
    WaiverSignature,
)
from staffing.models import Role
from staffing.services import location_role_grant

DEMO_PASSWORD = "toolgate-demo"  # noqa: S105 - printed for the demo on purpose

WAIVER_TEXT = """\
1. I will use only the machines I am certified on, and only as I was taught.
2. I will wear the protective equipment each machine requires (eye protection at all times in the shop).
3. I will never leave a running laser cutter, router or saw unattended.
4. I will report any damage, malfunction or injury to staff at once.
5. I understand that woodworking, metalworking and laser tools can cause serious injury, and I
   accept the risks of using the space's equipment.
"""


ALL_LOCATIONS_PLAN = "Monthly membership"
MENLO_ONLY_PLAN = "Menlo Park only"


@dataclass(frozen=True)
class DemoPerson:
    email: str
    first_name: str
    last_name: str
    role: str
    status: str
    badge: str = ""
    signs_waiver: bool = True
    home: str = "menlo-park"  # the demo location (locations.demo) they mostly go to
    plan: str = ALL_LOCATIONS_PLAN
    # Where staff and instructors hold their role (staffing): a location's slug, or "" for every
    # location (the head office).
    role_at: str = ""


PEOPLE = [
    DemoPerson(
        "staff@toolgate.test", "Sam", "Staffer", roles.STAFF, MembershipStatus.ACTIVE, "5A0000F1"
    ),
    DemoPerson(
        "instructor@toolgate.test",
        "Ida",
        "Instructor",
        roles.INSTRUCTOR,
        MembershipStatus.ACTIVE,
        "5A0000F2",
    ),
    DemoPerson(
        "maker@toolgate.test", "Maya", "Maker", roles.MEMBER, MembershipStatus.ACTIVE, "04A32B1C"
    ),
    DemoPerson(
        "newbie@toolgate.test", "Ned", "Newbie", roles.MEMBER, MembershipStatus.PENDING, "", False
    ),
    DemoPerson(
        "late@toolgate.test", "Pat", "Pastdue", roles.MEMBER, MembershipStatus.PAST_DUE, "04B7C8D9"
    ),
    DemoPerson(
        "gone@toolgate.test", "Cas", "Canceled", roles.MEMBER, MembershipStatus.CANCELED, ""
    ),
    # The chain: Raleigh's own staff, and a member whose plan opens Menlo Park only.
    DemoPerson(
        "raleigh-staff@toolgate.test",
        "Rae",
        "Raleigh",
        roles.STAFF,
        MembershipStatus.ACTIVE,
        "5A0000F3",
        home="raleigh",
        role_at="raleigh",
    ),
    DemoPerson(
        "local@toolgate.test",
        "Lou",
        "Local",
        roles.MEMBER,
        MembershipStatus.ACTIVE,
        "04C1D2E3",
        plan=MENLO_ONLY_PLAN,
    ),
]


def seed() -> list[str]:
    """Create the demo data if missing; returns the lines to print (logins)."""
    plans = {
        ALL_LOCATIONS_PLAN: Plan.objects.get_or_create(
            name=ALL_LOCATIONS_PLAN,
            defaults={"monthly_price_cents": 10000, "currency": "usd", "is_default": True},
        )[0],
        MENLO_ONLY_PLAN: Plan.objects.get_or_create(
            name=MENLO_ONLY_PLAN,
            defaults={"monthly_price_cents": 7500, "currency": "usd", "all_locations": False},
        )[0],
    }
    menlo = Location.objects.filter(slug="menlo-park").first()
    if menlo is not None and not plans[MENLO_ONLY_PLAN].locations.exists():
        plans[MENLO_ONLY_PLAN].locations.add(menlo)
    waiver, _ = Waiver.objects.get_or_create(
        version=1, defaults={"title": "Shop safety waiver", "text": WAIVER_TEXT}
    )
    now = timezone.now()
    lines = []
    for person in PEOPLE:
        user, created = User.objects.get_or_create(
            email=person.email,
            defaults={"first_name": person.first_name, "last_name": person.last_name},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = person.role == roles.STAFF
            user.save()
            user.groups.add(Group.objects.get(name=person.role))
            _grant_location_role(user, person)
            _verify_email(user)
        member = services.member_get_or_create(user=user)
        if created:
            member.home_location = Location.objects.filter(slug=person.home).first()
            member.save(update_fields=["home_location"])
            member.membership.plan = plans[person.plan]
            member.membership.save(update_fields=["plan"])
            _set_demo_status(member, person.status, now)
            if person.badge and not Badge.objects.filter(uid=person.badge, enabled=True).exists():
                services.badge_assign(member=member, uid=person.badge, actor=None)
            if person.signs_waiver:
                WaiverSignature.objects.get_or_create(
                    member=member, waiver=waiver, defaults={"signed_name": member.display_name}
                )
        lines.append(f"  {person.role:<10} {person.email:<28} {DEMO_PASSWORD}")
        if created and person.email == "maker@toolgate.test":
            _demo_money(member)
    _demo_materials()
    _demo_credit_packs()
    return ["Demo logins (role, email, password):", *lines]


def _grant_location_role(user: User, person: DemoPerson) -> None:
    """Sam (staff) and Ida (instructor) work chain-wide, Rae at Raleigh only."""
    role = {roles.STAFF: Role.STAFF, roles.INSTRUCTOR: Role.INSTRUCTOR}.get(person.role)
    if role is None:
        return
    location = Location.objects.filter(slug=person.role_at).first() if person.role_at else None
    if person.role_at and location is None:
        return  # no such demo location: the default location, as for any ungranted staff
    location_role_grant(user=user, role=role, location=location)


MATERIALS = [
    # name, unit, price in cents, stock, low-stock threshold
    ("Acrylic 3 mm, 600 x 400", "sheet", 1200, 24, 5),
    ("Birch plywood 6 mm, 600 x 400", "sheet", 900, 30, 6),
    ("PLA filament 1.75 mm", "1 kg spool", 2500, 8, 2),
]


def _demo_credit_packs() -> None:
    for name, amount in [("$25 of credits", 2500), ("$50 of credits", 5000)]:
        CreditPack.objects.get_or_create(name=name, defaults={"amount_minor": amount})


def _demo_materials() -> None:
    for name, unit, price, stock, threshold in MATERIALS:
        Material.objects.get_or_create(
            name=name,
            defaults={
                "unit": unit,
                "price_minor": price,
                "currency": "usd",
                "stock": stock,
                "low_stock_threshold": threshold,
            },
        )


def _demo_money(member: Member) -> None:
    """maker@ paid the month at the desk and bought $25.00 of prepaid credits (the ledger)."""
    staff = User.objects.filter(email="staff@toolgate.test").first()
    if staff is None:
        return
    services.payment_record_manual(member=member, actor=staff, note="Demo: paid at the desk")
    ledger_record(
        member=member,
        kind=LedgerEntry.Kind.CREDIT_PURCHASE,
        method=LedgerEntry.Method.CASH,
        amount_minor=2500,
        currency="usd",
        cause=member,
        recorded_by=staff,
        memo="Demo: a $25.00 credit pack bought at the desk",
    )


def _verify_email(user: User) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


def _set_demo_status(member: Member, status: str, now) -> None:
    period_end = {
        MembershipStatus.ACTIVE: now + relativedelta(days=20),
        MembershipStatus.PAST_DUE: now - relativedelta(days=1),
        MembershipStatus.CANCELED: now - relativedelta(months=2),
    }.get(status)
    if status != MembershipStatus.PENDING:
        services.membership_set_status(
            membership=member.membership,
            status=status,
            reason="Demo data",
            cause=ChangeCause.SYSTEM,
            period_end=period_end,
        )
