"""An instructor marks attendance and passes a member on the roster; the member sees the grant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from membership import roles
from tests.factories.membership import PASSWORD, MembershipFactory, UserFactory
from tests.factories.training import (
    CertificationFactory,
    ClassSessionFactory,
    EnrollmentFactory,
    MemberCertificationFactory,
)
from training.models import MemberCertification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_instructor_passes_a_member_who_then_sees_the_certification(page, log_in):
    instructor = UserFactory(role=roles.INSTRUCTOR, first_name="Ida", last_name="Instructor")
    safety = CertificationFactory(name="General shop safety", instructors=[instructor])
    laser = CertificationFactory(
        name="Laser cutter", prerequisites=[safety], instructors=[instructor]
    )
    session = ClassSessionFactory(
        certification=laser,
        instructor=instructor,
        start=timezone.now() - timedelta(hours=2),
        end=timezone.now() - timedelta(minutes=5),
    )
    maker = MembershipFactory(
        member__user__first_name="Maya", member__user__last_name="Maker"
    ).member
    absent = MembershipFactory(
        member__user__first_name="Abe", member__user__last_name="Absent"
    ).member
    for member in (maker, absent):
        MemberCertificationFactory(member=member, certification=safety)
        EnrollmentFactory(session=session, member=member)

    log_in(instructor, PASSWORD)
    page.get_by_role("link", name="Teaching").click()
    page.locator(f'[data-session="{session.pk}"]').get_by_role("link", name="Roster").click()
    page.get_by_label("Maya Maker").select_option(label="Passed")
    page.get_by_label("Abe Absent").select_option(label="Absent")
    page.get_by_role("button", name="Save roster").click()
    page.get_by_text("Roster saved. Members who passed are certified.").wait_for()
    assert page.locator("tr", has_text="Maya Maker").locator(".pill").inner_text() == "Passed"
    assert page.get_by_label("Abe Absent").input_value() == "absent"

    page.locator("nav .menu summary").last.click()  # the account menu
    page.get_by_role("button", name="Log out").click()
    log_in(maker.user, PASSWORD)
    page.locator("nav .menu summary").last.click()  # the account menu
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="My certifications"
    ).click()
    held = page.locator('[data-certification="laser-cutter"]').first
    assert held.get_by_text("Valid", exact=True).is_visible()
    assert "Valid until" in held.inner_text()

    grant = MemberCertification.objects.get(certification=laser)
    assert (grant.member, grant.granted_by, grant.session) == (maker, instructor, session)
    assert not MemberCertification.objects.filter(member=absent, certification=laser).exists()
