"""Training pages: who may see what, forms that change state, and what a member is told."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from membership import roles
from tests.factories.membership import MembershipFactory, UserFactory
from tests.factories.training import (
    ClassSessionFactory,
    EnrollmentFactory,
    MemberCertificationFactory,
)
from training.models import Enrollment, EnrollmentStatus, MemberCertification, TrainingRequest


def _post(client, url, **data):
    return client.post(url, {"form_token": str(uuid.uuid4()), **data}, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize(
    ("url_name", "args", "role", "status"),
    [
        ("training:class_list", [], None, 200),
        ("training:my_certifications", [], None, 200),
        ("training:instructor_sessions", [], None, 403),
        ("training:instructor_sessions", [], roles.INSTRUCTOR, 200),
        ("training:demand_queue", [], None, 403),
        ("training:demand_queue", [], roles.INSTRUCTOR, 403),
        ("training:demand_queue", [], roles.STAFF, 200),
        ("training:roster", ["session"], None, 403),
        ("training:roster", ["session"], roles.STAFF, 200),
        ("training:session_detail", ["session"], None, 200),
    ],
)
def test_page_access(client, laser_class, url_name, args, role, status):
    user = UserFactory(role=role) if role else UserFactory()
    client.force_login(user)
    url = reverse(url_name, args=[laser_class.pk if a == "session" else a for a in args])
    assert client.get(url).status_code == status


def test_the_class_schedule_is_public_and_enrolling_needs_a_login(client, laser_class):
    """Logged out, the schedule shows (what, when, seats) with Join; enrolling asks to log in."""
    page = client.get(reverse("training:class_list")).content.decode()
    assert laser_class.certification.name in page and "Join to enrol" in page
    response = client.get(reverse("training:my_certifications"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_class_calendar_lists_the_week_with_free_seats(client, safe_member, laser_class):
    client.force_login(safe_member.user)
    response = client.get(
        reverse("training:class_list"), {"date": timezone.localdate(laser_class.start)}
    )
    page = response.content.decode()
    assert "Laser cutter" in page and "2 of 2 free" in page
    month = client.get(reverse("training:class_list"), {"view": "month", "date": "nonsense"})
    assert month.status_code == 200


def test_enrolling_from_the_session_page(client, safe_member, laser_class):
    client.force_login(safe_member.user)
    response = _post(client, reverse("training:session_enroll", args=[laser_class.pk]))
    assert _messages(response) == ["You have a seat in this class."]
    assert "You have a seat" in response.content.decode()
    assert laser_class.enrollments.get().member == safe_member


def test_a_full_class_puts_the_member_on_the_waitlist_and_says_so(
    client, make_member, safety, laser_class
):
    for _ in range(laser_class.capacity):
        EnrollmentFactory(session=laser_class, member=make_member(certified=[safety]))
    member = make_member(certified=[safety])
    client.force_login(member.user)
    response = _post(client, reverse("training:session_enroll", args=[laser_class.pk]))
    assert _messages(response) == [
        "The class is full: you are on the waitlist at position 1. We email you if a seat opens."
    ]


def test_a_member_without_the_prerequisite_is_told_why(client, make_member, laser_class):
    member = make_member()
    client.force_login(member.user)
    response = _post(client, reverse("training:session_enroll", args=[laser_class.pk]))
    assert _messages(response) == [
        "Laser cutter needs General shop safety first. Take that class before this one."
    ]
    assert not Enrollment.objects.exists()


def test_cancelling_someone_elses_enrollment_changes_nothing(
    client, make_member, safe_member, laser_class
):
    enrollment = EnrollmentFactory(session=laser_class, member=safe_member)
    client.force_login(make_member().user)
    response = _post(client, reverse("training:enrollment_cancel", args=[enrollment.pk]))
    assert _messages(response) == ["You can only cancel your own enrollment."]
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ENROLLED


def test_request_training_then_staff_see_the_queue(client, make_member, laser):
    member = make_member()
    client.force_login(member.user)
    _post(client, reverse("training:request_training", args=[laser.pk]))
    response = _post(client, reverse("training:request_training", args=[laser.pk]))
    assert _messages(response)[0].startswith("You asked for Laser cutter on")
    assert TrainingRequest.objects.count() == 1

    client.force_login(UserFactory(role=roles.STAFF))
    page = client.get(reverse("training:demand_queue")).content.decode()
    assert 'data-certification="laser-cutter"><td>Laser cutter</td>' in page
    assert "<strong>1</strong>" in page


def test_staff_schedule_a_class_from_the_demand_page(client, safety, instructor):
    client.force_login(UserFactory(role=roles.STAFF))
    start = timezone.localtime() + timedelta(days=3)
    response = _post(
        client,
        reverse("training:session_create"),
        **{
            "one-form_token": str(uuid.uuid4()),
            "one-certification": safety.pk,
            "one-instructor": instructor.pk,
            "one-start": start.strftime("%Y-%m-%dT%H:%M"),
            "one-end": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "one-capacity": 5,
            "one-place": "Classroom",
        },
    )
    assert _messages(response) == ["Class scheduled."]
    assert safety.sessions.get().capacity == 5


def test_roster_page_passes_a_member(client, laser, instructor, safe_member):
    session = ClassSessionFactory(
        certification=laser, instructor=instructor, start=timezone.now() - timedelta(hours=1)
    )
    enrollment = EnrollmentFactory(session=session, member=safe_member)
    client.force_login(instructor)
    response = _post(
        client,
        reverse("training:roster", args=[session.pk]),
        **{f"outcome_{enrollment.pk}": "passed"},
    )
    assert _messages(response) == ["Roster saved. Members who passed are certified."]
    grant = MemberCertification.objects.get(certification=laser)
    assert (grant.member, grant.session, grant.granted_by) == (safe_member, session, instructor)


def test_one_to_one_sign_off_by_an_instructor(client, laser, instructor, safe_member):
    client.force_login(instructor)
    response = _post(
        client,
        reverse("training:sign_off"),
        email=safe_member.user.email.upper(),
        certification=laser.pk,
        note="Supervised two cuts",
    )
    assert _messages(response) == ["Signed off: the member is certified."]
    assert MemberCertification.objects.get(certification=laser).note == "Supervised two cuts"


def test_a_plain_member_cannot_sign_off(client, laser, make_member, safe_member):
    client.force_login(make_member().user)
    response = client.post(
        reverse("training:sign_off"),
        {"email": safe_member.user.email, "certification": laser.pk, "note": "x"},
    )
    assert response.status_code == 403
    assert not MemberCertification.objects.filter(certification=laser).exists()


def test_dashboard_shows_certifications_and_suggests_the_safety_class(
    client, make_member, safety, instructor
):
    ClassSessionFactory(certification=safety, instructor=instructor, capacity=6)
    member = make_member()
    client.force_login(member.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-step="certifications"' in page
    assert "General shop safety certified" in page
    assert "Take General shop safety: next class" in page and "(6 seats free)" in page
    assert "Classes for you" in page


def test_dashboard_step_is_done_once_certified(client, safe_member, laser):
    MemberCertificationFactory(member=safe_member, certification=laser)
    client.force_login(safe_member.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert '<li class="done" data-step="certifications">' in page
    assert "You hold General shop safety, Laser cutter." in page


def test_staff_member_page_shows_the_history_and_revokes(staff_client, safe_member, laser):
    grant = MemberCertificationFactory(member=safe_member, certification=laser)
    old = MemberCertificationFactory(
        member=safe_member,
        certification=laser,
        granted_at=timezone.now() - timedelta(days=800),
        expires_at=timezone.now() - timedelta(days=435),
    )
    url = reverse("staff_member_detail", args=[safe_member.pk])
    page = staff_client.get(url).content.decode()
    assert f'data-grant="{old.pk}"' in page and "Expired" in page
    assert f'action="{reverse("training:revoke", args=[grant.pk])}"' in page

    response = _post(
        staff_client,
        reverse("training:revoke", args=[grant.pk]),
        reason="Left the laser unattended",
        next=url,
    )
    assert response.redirect_chain[-1][0] == url
    page = response.content.decode()
    assert "Left the laser unattended" in page and "Revoked" in page
    assert MemberCertification.objects.filter(member=safe_member).count() == 3  # none deleted


def test_revoke_redirect_refuses_other_hosts(staff_client, safe_member, laser):
    grant = MemberCertificationFactory(member=safe_member, certification=laser)
    response = staff_client.post(
        reverse("training:revoke", args=[grant.pk]),
        {"form_token": str(uuid.uuid4()), "reason": "x", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("training:instructor_sessions")


def test_staff_see_their_own_record_as_the_front_desk_does(client, safety):
    staff = UserFactory(role=roles.STAFF)
    member = MembershipFactory(member__user=staff).member
    grant = MemberCertificationFactory(member=member, certification=safety)
    client.force_login(staff)
    page = client.get(reverse("staff_member_detail", args=[member.pk])).content.decode()
    assert f'data-grant="{grant.pk}"' in page and "Classes for you" not in page


def test_the_class_page_offers_its_teachers_the_machines_to_hold(
    client, instructor, safe_member, laser_class
):
    """The panel (bookings' page, loaded by htmx) shows for instructors and staff only."""
    machines_url = reverse("bookings:session_machines", args=[laser_class.pk])
    page_url = reverse("training:session_detail", args=[laser_class.pk])
    client.force_login(safe_member.user)
    assert machines_url not in client.get(page_url).content.decode()
    client.force_login(instructor)
    page = client.get(page_url).content.decode()
    assert f'hx-get="{machines_url}"' in page
    panel = client.get(machines_url, headers={"HX-Request": "true"}).content.decode()
    assert "Machines held for this class" in panel and "None yet." in panel
