"""Guests: a member brings a registered guest (name, email, waiver signed) to a class, on a seat
taken on the member's enrollment and counted within the class's seats."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from membership import roles
from membership.models import LedgerEntry
from staffing.models import Role
from staffing.services import location_role_grant
from tests.factories.locations import LocationFactory
from tests.factories.membership import MembershipFactory, UserFactory, WaiverFactory
from tests.factories.training import CertificationFactory, ClassSessionFactory
from training import guests, scheduling, selectors, services
from training.errors import EnrollmentRejected, NotAllowed
from training.models import EnrollmentStatus, GuestSeat


@pytest.fixture
def waiver(db):
    return WaiverFactory()


@pytest.fixture
def host(db):
    return MembershipFactory().member


def _class(capacity=2, fee=0):
    cert = CertificationFactory(name="Woodshop", class_fee_minor=fee, class_fee_currency="usd")
    return ClassSessionFactory(certification=cert, capacity=capacity)


def _bring(enrollment, name="Gina Guest", email="gina@example.org", signed=None):
    return guests.guest_bring(
        enrollment=enrollment,
        name=name,
        email=email,
        signed_name=signed or name,
        actor=enrollment.member.user,
    )


def test_a_guest_takes_a_seat_on_the_hosts_enrollment(waiver, host):
    session = _class(capacity=2)
    enrollment = services.enrollment_create(member=host, session=session)
    seat = _bring(enrollment)
    assert (seat.guest.name, seat.guest.email, seat.guest.waiver) == (
        "Gina Guest",
        "gina@example.org",
        waiver,
    )
    assert seat.guest.host == host
    assert selectors.session_seats_free(session) == 0
    # The class is full: the next member waits.
    other = services.enrollment_create(member=MembershipFactory().member, session=session)
    assert other.status == EnrollmentStatus.WAITLISTED


def test_no_guest_when_the_class_is_full(waiver, host):
    session = _class(capacity=1)
    enrollment = services.enrollment_create(member=host, session=session)
    with pytest.raises(EnrollmentRejected, match="No seat is left"):
        _bring(enrollment)
    assert not GuestSeat.objects.exists()
    assert not host.guests.exists()  # registering and seating happen together or not at all


def test_a_guest_signs_the_waiver_in_their_own_name(waiver, host):
    enrollment = services.enrollment_create(member=host, session=_class())
    with pytest.raises(EnrollmentRejected, match="their own full name"):
        _bring(enrollment, signed="Host Member")


def test_a_guest_who_signed_an_older_waiver_signs_again(host, waiver):
    enrollment = services.enrollment_create(member=host, session=_class(capacity=3))
    guest = guests.guest_register(
        host=host, name="Gina Guest", email="gina@example.org", signed_name="Gina Guest"
    )
    WaiverFactory(version=2)
    with pytest.raises(EnrollmentRejected, match="older waiver"):
        guests.guest_seat_add(enrollment=enrollment, guest=guest, actor=host.user)
    seat = _bring(enrollment)  # registered again: signs version 2
    assert seat.guest.pk == guest.pk and seat.guest.waiver.version == 2


def test_only_the_host_brings_guests_and_only_once(waiver, host):
    enrollment = services.enrollment_create(member=host, session=_class(capacity=3))
    stranger = MembershipFactory().member
    with pytest.raises(NotAllowed):
        guests.guest_bring(
            enrollment=enrollment,
            name="Gina Guest",
            email="gina@example.org",
            signed_name="Gina Guest",
            actor=stranger.user,
        )
    _bring(enrollment)
    with pytest.raises(EnrollmentRejected, match="already has a seat"):
        _bring(enrollment)


def test_a_guest_in_a_paid_class_goes_on_the_hosts_account_and_comes_off_with_the_seat(
    waiver, host
):
    session = _class(capacity=3, fee=3000)
    enrollment = services.enrollment_create(member=host, session=session)
    enrollment.fee_minor, enrollment.fee_currency = 3000, "usd"
    enrollment.save()
    seat = _bring(enrollment)
    charged = LedgerEntry.objects.get(kind="class_fee", method="account")
    assert (charged.amount_minor, charged.cause, charged.member) == (3000, seat, host)
    guests.guest_seat_cancel(seat=seat, actor=host.user)
    assert LedgerEntry.objects.get(reverses=charged).amount_minor == -3000
    assert selectors.session_seats_free(session) == 2


def test_the_guests_seat_goes_with_the_hosts(waiver, host):
    session = _class(capacity=2)
    enrollment = services.enrollment_create(member=host, session=session)
    _bring(enrollment)
    waiting = services.enrollment_create(member=MembershipFactory().member, session=session)
    services.enrollment_cancel(enrollment=enrollment, actor=host.user)
    assert GuestSeat.objects.get().cancelled_at is not None
    waiting.refresh_from_db()
    assert waiting.status == EnrollmentStatus.ENROLLED
    assert selectors.session_seats_free(session) == 1


def test_a_member_brings_a_guest_from_the_class_page(client, waiver, host):
    session = _class(capacity=2)
    services.enrollment_create(member=host, session=session)
    client.force_login(host.user)
    page = client.get(reverse("training:session_detail", args=[session.pk])).content.decode()
    assert "Bring a guest" in page
    token = re.search(
        r'action="/training/enrollments/\d+/guests/">.*?name="form_token" value="([^"]+)"',
        page,
        re.S,
    ).group(1)
    response = client.post(
        reverse("training:guest_bring", args=[host.enrollments.get().pk]),
        {
            "form_token": token,
            "name": "Gina Guest",
            "email": "gina@example.org",
            "signed_name": "Gina Guest",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Gina Guest has a seat as your guest." in page
    assert "0 of 2 seats free" not in page and "Full" in page


def test_a_cancelled_class_takes_the_guests_fee_off_the_hosts_account(waiver, host):
    session = _class(capacity=3, fee=3000)
    enrollment = services.enrollment_create(member=host, session=session)
    enrollment.fee_minor, enrollment.fee_currency = 3000, "usd"
    enrollment.save()
    _bring(enrollment)
    scheduling.session_cancel(session=session, reason="Instructor ill", actor=session.instructor)
    assert sum(LedgerEntry.objects.values_list("amount_minor", flat=True)) == 0
    assert GuestSeat.objects.get().cancelled_at is not None


def test_staff_give_up_a_guests_seat_only_at_the_class_location(waiver, host):
    session = _class()
    seat = _bring(services.enrollment_create(member=host, session=session))
    elsewhere = UserFactory(role=roles.STAFF)
    location_role_grant(user=elsewhere, role=Role.STAFF, location=LocationFactory())
    with pytest.raises(NotAllowed, match="the class's staff"):
        guests.guest_seat_cancel(seat=seat, actor=elsewhere)
    here = UserFactory(role=roles.STAFF)
    location_role_grant(user=here, role=Role.STAFF, location=session.location)
    assert guests.guest_seat_cancel(seat=seat, actor=here).cancelled_at is not None


def _started(session):
    """The class began an hour ago (guests are brought before it starts)."""
    from datetime import timedelta

    from django.utils import timezone

    from training.models import ClassSession

    now = timezone.now()
    ClassSession.objects.filter(pk=session.pk).update(
        start=now - timedelta(hours=1), end=now + timedelta(hours=1)
    )


def _roster_post(client, session, **fields):
    url = reverse("training:roster", args=[session.pk])
    page = client.get(url).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    return client.post(url, {"form_token": token, **fields}, follow=True)


def test_guests_are_on_the_roster_as_guests_of_their_host_and_marked_present_only(
    waiver, host, client
):
    """The instructor sees each guest beneath their host, marks them present or absent; the
    host passing certifies the host, the guest's attendance certifies nobody."""
    from training.models import MemberCertification

    session = _class(capacity=3)
    enrollment = services.enrollment_create(member=host, session=session)
    seat = _bring(enrollment)
    _started(session)
    client.force_login(session.instructor)

    page = client.get(reverse("training:roster", args=[session.pk])).content.decode()
    row = re.search(rf'<tr data-guest-seat="{seat.pk}">.*?</tr>', page, re.S).group(0)
    assert "Gina Guest" in row and f"Guest of {host}" in row
    assert 'value="attended"' in row and 'value="passed"' not in row

    # A guest cannot be passed: the whole roster is refused, nothing is marked.
    refused = _roster_post(
        client, session, **{f"outcome_{enrollment.pk}": "passed", f"guest_{seat.pk}": "passed"}
    )
    assert refused.status_code == 200
    seat.refresh_from_db()
    assert seat.attended is None and not MemberCertification.objects.exists()

    _roster_post(
        client, session, **{f"outcome_{enrollment.pk}": "passed", f"guest_{seat.pk}": "attended"}
    )
    seat.refresh_from_db()
    assert (seat.attended, seat.marked_by) == (True, session.instructor)
    assert list(MemberCertification.objects.values_list("member", flat=True)) == [host.pk]
    page = client.get(reverse("training:roster", args=[session.pk])).content.decode()
    row = re.search(rf'<tr data-guest-seat="{seat.pk}">.*?</tr>', page, re.S).group(0)
    assert '<option value="attended" selected>' in row

    # Marked again (the page sends the host's pass as a hidden field): the guest was absent.
    _roster_post(
        client, session, **{f"outcome_{enrollment.pk}": "passed", f"guest_{seat.pk}": "absent"}
    )
    seat.refresh_from_db()
    assert seat.attended is False
    assert not LedgerEntry.objects.filter(kind="no_show_fee").exists()  # none for a guest


def test_a_guest_whose_seat_was_given_up_is_not_on_the_roster(waiver, host):
    session = _class(capacity=3)
    enrollment = services.enrollment_create(member=host, session=session)
    seat = _bring(enrollment)
    guests.guest_seat_cancel(seat=seat, actor=host.user)
    assert list(selectors.session_guest_seats(session)) == []
