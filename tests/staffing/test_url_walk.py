"""Every staff URL, walked with a staff member of the other location: refused (403 or 404), nothing
changed, the refusal logged; a chain-wide staff member passes on the same URL.

The URLs come from Django's resolver, so a new page is walked without anyone adding it here: every
URL that is not on the short list of member pages below counts as a staff URL. Its arguments are
filled from Raleigh's objects (the "other location"), whose keys are all above 900,000 so that no
key can name an object of Menlo Park by accident.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from access.models import AccessSource
from bookings.models import Booking
from equipment.models import DayPass, Machine
from locations.models import Location
from membership import cards, roles
from membership.billing.models import StripeRefund
from membership.models import Badge, Member, Membership
from staffing.models import LocationRole, RefusedAction, Role
from staffing.services import location_role_grant
from tests.factories.access import AccessEventFactory, GateDeviceFactory
from tests.factories.bookings import BookingFactory
from tests.factories.daypasses import DayPassFactory
from tests.factories.equipment import MachineFactory, ProblemReportFactory, certification
from tests.factories.locations import LocationFactory
from tests.factories.membership import (
    BadgeFactory,
    LedgerEntryFactory,
    MembershipFactory,
    StripeRefundFactory,
    UserFactory,
)
from tests.factories.training import (
    ClassSeriesFactory,
    ClassSessionFactory,
    EnrollmentFactory,
    MemberCertificationFactory,
)
from training.models import ClassSeries, ClassSession, Enrollment

# Pages for members (or anyone): what a staff member of another location sees there is checked
# below (SHARED) or is the same as any member's. Every other URL is a staff URL.
MEMBER_PAGES = {
    "home",
    "dashboard",
    "waiver_sign",
    "member_card",
    "membership_billing",
    "billing_checkout",
    "billing_portal",
    "billing_status",
    "billing_credit_pack",
    "billing_receipt",  # the viewer's own payment's (404 for anyone else's)
    "equipment:day_pass_buy",  # for oneself
    "training:guest_bring",  # on one's own seat
    "training:guest_seat_cancel",  # the host's; staff only at the class's location
    "training:enrollment_pay",
    "stripe_webhook",
    "training:class_list",
    "training:my_certifications",
    "training:session_enroll",
    "training:request_training",
    "equipment:machine_list",
    "equipment:machine_label",
    "equipment:problem_report",
    "bookings:my_bookings",
    "bookings:area_day",
    # The waitlist is a member's own: join, leave, and the offer page (404 for anyone else).
    "bookings:wait_new",
    "bookings:wait_leave",
    "bookings:wait_offer",
    "profile",
    "bookings:feed_reset",
    "bookings:member_feed",
    "bookings:machine_feed",
    "access:my_usage",
    "locations:location_list",
    "locations:location_detail",
}
# Member pages that show staff more (names on the grid, staff controls): a staff member of another
# location must see them as a member does, without Raleigh's members' names.
SHARED = {
    "equipment:machine_detail",
    "bookings:machine_calendar",
    "bookings:week_grid",
    "bookings:booking_new",
    "training:session_detail",
    "bookings:area_day",
}
# Chain-wide configuration, not at any location (certifications and plans are the chain's, a
# webhook endpoint the site's): the head office's only (tests/staffing/test_head_office.py); and
# the API, which authenticates by token, not by session. Not walked.
CHAIN_WIDE = {"console:certification_edit", "console:plan_edit"}
CHAIN_WIDE_NAMESPACES = ("webhooks:", "api:")
SKIPPED_PREFIXES = ("admin/", "accounts/", "^media/", "media/", "static/")
FAR = 900_000  # Raleigh's keys


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    kwargs: tuple[str, ...]

    def __str__(self) -> str:
        return self.name or self.pattern


def _routes() -> list[Route]:
    found: list[Route] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> None:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if route.startswith(SKIPPED_PREFIXES):
                continue
            if isinstance(entry, URLResolver):
                ns = ":".join(filter(None, [namespace, entry.namespace])) or None
                walk(entry, route, ns)
            elif isinstance(entry, URLPattern):
                name = ":".join(filter(None, [namespace, entry.name])) if entry.name else ""
                kwargs = tuple(re.findall(r"<(?:\w+:)?(\w+)>", route))
                found.append(Route(name, route, kwargs))

    walk(get_resolver(), "", None)
    return found


ROUTES = _routes()
STAFF_ROUTES = [
    r
    for r in ROUTES
    if r.name not in MEMBER_PAGES
    and r.name not in CHAIN_WIDE
    and not r.name.startswith(CHAIN_WIDE_NAMESPACES)
]


@dataclass
class Chain:
    menlo: Location
    raleigh: Location
    local_staff: object  # staff at Menlo Park only
    head_office: object  # staff and instructor at every location
    member: Member  # a Raleigh member, with everything a page could name
    machine: Machine
    candidates: dict[str, list]

    @property
    def markers(self) -> list[str]:
        """What only someone allowed at Raleigh may read."""
        user = self.member.user
        return [user.email, f"{user.first_name} {user.last_name}", "raleigh-gate-1"]


def build_chain() -> Chain:
    menlo = LocationFactory(slug="menlo-park", name="Menlo Park")
    raleigh = LocationFactory(slug="raleigh", name="Raleigh", time_zone="America/New_York")
    local_staff = UserFactory(role=roles.STAFF)
    local_staff.groups.add(*_groups(roles.INSTRUCTOR))
    for role in (Role.STAFF, Role.INSTRUCTOR):
        location_role_grant(user=local_staff, role=role, location=menlo)
    head_office = UserFactory(role=roles.STAFF)
    head_office.groups.add(*_groups(roles.INSTRUCTOR))
    for role in (Role.STAFF, Role.INSTRUCTOR):
        location_role_grant(user=head_office, role=role, location=None)

    laser = certification("Laser cutter")
    machine = MachineFactory(
        id=FAR + 1,
        name="Raleigh Bandsaw",
        slug="raleigh-bandsaw",
        location=raleigh,
        required_certification=laser,
    )
    user = UserFactory(
        id=FAR + 2, first_name="Zebulon", last_name="Quixote", email="zq@raleigh.test"
    )
    membership = MembershipFactory(id=FAR + 3, member__id=FAR + 4, member__user=user)
    member = membership.member
    Member.objects.filter(pk=member.pk).update(home_location=raleigh)
    member.refresh_from_db()
    badge = BadgeFactory(id=FAR + 5, member=member)
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=1)
    booking = BookingFactory(
        id=FAR + 6, machine=machine, member=member, start=start, end=start + timedelta(hours=1)
    )
    running = BookingFactory(
        id=FAR + 7,
        machine=machine,
        member=member,
        start=start - timedelta(hours=1, minutes=5),
        end=start - timedelta(minutes=5),
    )
    session = ClassSessionFactory(id=FAR + 8, certification=laser, location=raleigh)
    enrollment = EnrollmentFactory(id=FAR + 9, session=session, member=member)
    grant = MemberCertificationFactory(id=FAR + 10, member=member, certification=laser)
    report = ProblemReportFactory(id=FAR + 11, machine=machine)
    GateDeviceFactory(device_id="raleigh-gate-1", machine=machine)
    AccessEventFactory(
        machine=machine, member=member, badge_uid=badge.uid, source=AccessSource.GATE
    )
    entry = LedgerEntryFactory(id=FAR + 12, member=member)  # a cash payment at Raleigh's desk
    series = ClassSeriesFactory(id=FAR + 13, certification=laser, location=raleigh)
    day_pass = DayPassFactory(id=FAR + 14, holder=member)  # paid, cancellable by Raleigh's staff
    refund = StripeRefundFactory(  # a card refund staff may send again
        id=FAR + 15, payment__member=member, state=StripeRefund.State.FAILED
    )
    pks = [member.pk, badge.pk, booking.pk, running.pk, session.pk, enrollment.pk, grant.pk]
    pks += [report.pk, laser.pk, entry.pk, series.pk, day_pass.pk, refund.pk]
    return Chain(
        menlo,
        raleigh,
        local_staff,
        head_office,
        member,
        machine,
        {
            "pk": pks,
            "slug": [machine.slug],
            "device_id": ["raleigh-gate-1"],
            "token": [cards.member_card_token(member)],
        },
    )


def _groups(name: str):
    from django.contrib.auth.models import Group

    return Group.objects.filter(name=name)


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def snapshot(chain: Chain) -> dict:
    """Everything a staff action on Raleigh's objects could change."""
    return {
        "bookings": list(Booking.objects.order_by("pk").values_list("pk", "state", "end")),
        "badges": list(Badge.objects.order_by("pk").values_list("pk", "enabled", "uid")),
        "memberships": list(Membership.objects.values_list("pk", "status", "current_period_end")),
        "machines": list(Machine.objects.values_list("pk", "state", "name")),
        "sessions": list(ClassSession.objects.values_list("pk", "start", "cancelled_at")),
        "series": list(ClassSeries.objects.values_list("pk", "capacity", "instructor_id")),
        "enrollments": list(Enrollment.objects.values_list("pk", "status")),
        "gates": list(
            chain.machine.gate_devices.values_list("device_id", "enabled", "secret", "machine_id")
        ),
        "day_passes": list(DayPass.objects.values_list("pk", "state")),
        "payments": chain.member.payments.count(),
        "ledger": chain.member.ledger_entries.count(),
        "refunds": list(StripeRefund.objects.values_list("pk", "state", "idempotency_key")),
    }


def request(client, route: Route, kwargs: dict, method: str):
    url = reverse(route.name, kwargs=kwargs) if route.name else "/" + route.pattern
    data = {"reason": "walk", "form_token": "00000000-0000-4000-8000-000000000000"}
    return client.post(url, data) if method == "post" else client.get(url)


REFUSED = {403, 404}


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=str)
def test_staff_of_another_location_is_refused_on_every_staff_url(db, client, route):
    chain = build_chain()
    outsider, insider = client, type(client)()
    outsider.force_login(chain.local_staff)
    insider.force_login(chain.head_office)
    combos = [
        dict(zip(route.kwargs, values, strict=True))
        for values in itertools.product(*(chain.candidates.get(k, []) for k in route.kwargs))
    ]
    if not route.kwargs:
        combos = [{}]
    assert combos, f"{route}: no Raleigh object for {route.kwargs}; add candidates"
    walked = False
    for kwargs, method in itertools.product(combos, ("get", "post")):
        refused_before = RefusedAction.objects.count()
        theirs = request(outsider, route, kwargs, method)
        if theirs.status_code == 405:
            continue
        if route.kwargs and route.name not in SHARED:
            mine = request(insider, route, kwargs, method)
            if mine.status_code in REFUSED:
                continue  # these arguments name nothing at Raleigh: try the next ones
            walked = True
            assert theirs.status_code in REFUSED, (
                f"{method.upper()} {route} {kwargs}: {theirs.status_code} for Menlo Park's staff, "
                f"{mine.status_code} for the head office"
            )
            if theirs.status_code == 403:
                assert RefusedAction.objects.count() > refused_before, f"{route}: not logged"
        else:
            walked = True
            body = _body(theirs)
            for marker in chain.markers:
                assert marker not in body, f"{method.upper()} {route}: shows {marker!r}"
    assert walked, f"{route}: no arguments reach one of Raleigh's objects; add candidates"


@pytest.mark.parametrize("route", [r for r in STAFF_ROUTES if r.name not in SHARED], ids=str)
def test_a_refused_request_changes_nothing(db, client, route):
    """The outsider's requests alone: the data is exactly as before. (On the SHARED pages they
    act as any member, whose visits may release a no-show.)"""
    chain = build_chain()
    client.force_login(chain.local_staff)
    before = snapshot(chain)
    combos = [
        dict(zip(route.kwargs, values, strict=True))
        for values in itertools.product(*(chain.candidates.get(k, []) for k in route.kwargs))
    ] or [{}]
    for kwargs, method in itertools.product(combos, ("get", "post")):
        request(client, route, kwargs, method)
    assert snapshot(chain) == before


def test_head_office_sees_raleigh_on_the_staff_lists(db, client):
    chain = build_chain()
    client.force_login(chain.head_office)
    for name in ("access:live", "access:log", "equipment:problem_list"):
        assert "Raleigh Bandsaw" in client.get(reverse(name)).content.decode(), name
    found = client.get(reverse("staff_member_search"), {"q": "Quixote"}).content.decode()
    assert "zq@raleigh.test" in found


def test_a_single_location_space_works_as_before(db, client):
    """Staff with no location role at all act at the only location, as they always did."""
    staff = UserFactory(role=roles.STAFF)
    machine = MachineFactory(name="Only Laser")
    GateDeviceFactory(device_id="only-gate", machine=machine)
    client.force_login(staff)
    assert not LocationRole.objects.exists()
    assert "Only Laser" in client.get(reverse("access:live")).content.decode()
    assert client.get(reverse("access:gate_detail", args=["only-gate"])).status_code == 200
