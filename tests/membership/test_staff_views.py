"""The staff member page and member search: what the front desk sees and which forms it offers."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from membership.models import MembershipStatus
from tests.factories.membership import (
    BadgeFactory,
    MemberFactory,
    MembershipFactory,
    UserFactory,
    WaiverFactory,
    ready_member,
)
from tests.factories.training import CertificationFactory, MemberCertificationFactory


class _Attributes(HTMLParser):
    """Every element's attributes, in page order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[dict[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs) -> None:
        self.elements.append(dict(attrs))

    def values(self, name: str) -> list[str]:
        return [e[name] for e in self.elements if e.get(name)]


def _detail(client, member) -> str:
    return client.get(reverse("staff_member_detail", args=[member.pk])).content.decode()


def test_the_member_page_says_a_ready_member_may_use_machines(staff_client):
    member = ready_member()
    page = _detail(staff_client, member)
    assert 'data-readiness="ready"' in page and "May use machines" in page


def test_the_member_page_lists_what_is_missing(staff_client):
    """Unpaid, no waiver, no badge, and the foundation class (a step training registers) not
    taken: the summary near the top names each, and the registry's member-facing links to
    pay or sign are not offered to staff."""
    WaiverFactory()
    CertificationFactory(name="General shop safety")
    member = MembershipFactory(status=MembershipStatus.PENDING, current_period_end=None).member
    page = _detail(staff_client, member)
    summary = page[page.index('data-readiness="missing"') : page.index('id="ms-h"')]
    for step in ("payment", "waiver", "badge", "certifications"):
        assert f'class="todo" data-step="{step}"' in summary
    assert "General shop safety certified" in summary
    assert reverse("waiver_sign") not in summary


def test_the_member_page_shows_certifications_held_as_done(staff_client):
    member = ready_member()
    MemberCertificationFactory(member=member, certification=CertificationFactory())
    page = _detail(staff_client, member)
    assert 'class="done" data-step="certifications"' in page
    assert 'data-readiness="ready"' in page


def test_a_membership_made_active_by_hand_shows_it_has_no_end_date(staff_client):
    """Active with no paid-through date counts as paid until someone changes it (a comped
    membership); the page says so instead of "Paid through: —"."""
    member = MembershipFactory(status=MembershipStatus.ACTIVE, current_period_end=None).member
    assert "Active, no end date (set by hand)" in _detail(staff_client, member)


def test_a_paid_membership_shows_its_end_date_not_the_by_hand_note(staff_client, member):
    page = _detail(staff_client, member)
    assert "Paid through" in page and "no end date" not in page


@pytest.fixture
def desk_client_without_payments(client, db):
    """Front-desk staff who may manage members but not take money."""
    user = UserFactory()
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="membership", codename="manage_members")
    )
    client.force_login(user)
    return client


def test_staff_who_may_not_record_payments_are_not_offered_the_form(
    desk_client_without_payments,
):
    """The other forms on the page need only `manage_members`, which the page itself needs."""
    member = BadgeFactory(member=MembershipFactory().member).member
    page = _detail(desk_client_without_payments, member)
    actions = _Attributes(page).values("action")
    assert reverse("staff_payment_record", args=[member.pk]) not in actions
    assert reverse("staff_badge_assign", args=[member.pk]) in actions
    assert reverse("staff_membership_status", args=[member.pk]) in actions
    assert reverse("staff_badge_disable", args=[member.badges.get().pk]) in actions


def test_staff_who_may_record_payments_are_offered_the_form(staff_client, member):
    actions = _Attributes(_detail(staff_client, member)).values("action")
    assert reverse("staff_payment_record", args=[member.pk]) in actions


def test_search_results_past_the_limit_say_how_many_there_are(staff_client):
    for _ in range(51):
        MemberFactory(user__last_name="Smith")
    page = staff_client.get(reverse("staff_member_search"), {"q": "smith"}).content.decode()
    assert "Showing the first 50 of 51; refine the search." in page
    assert len(re.findall(r'href="/staff/members/\d+/"', page)) == 50


def test_search_results_within_the_limit_say_nothing_more(staff_client):
    for _ in range(50):
        MemberFactory(user__last_name="Smith")
    page = staff_client.get(reverse("staff_member_search"), {"q": "smith"}).content.decode()
    assert "Showing the first" not in page


def _member_with_everything():
    """Two enabled badges (two disable and replace forms) and two revocable certifications."""
    member = ready_member()
    BadgeFactory(member=member)
    MemberCertificationFactory.create_batch(2, member=member)
    return member


def test_element_ids_on_the_member_page_are_unique(client, db):
    member = _member_with_everything()
    client.force_login(UserFactory(is_superuser=True))
    ids = Counter(_Attributes(_detail(client, member)).values("id"))
    assert [id_ for id_, count in ids.items() if count > 1] == []


def test_element_ids_stay_unique_when_a_refused_form_is_shown_again(staff_client):
    member = _member_with_everything()
    response = staff_client.post(
        reverse("staff_payment_record", args=[member.pk]),
        {"note": "x" * 501, "form_token": "3b2b8c62-2f47-4f3e-9c8e-1f0e2f6c2b11"},
    )
    assert response.status_code == 400
    ids = Counter(_Attributes(response.content.decode()).values("id"))
    assert [id_ for id_, count in ids.items() if count > 1] == []


def test_aria_references_on_the_member_page_point_at_rendered_elements(staff_client, member):
    page = _Attributes(_detail(staff_client, member))
    ids = set(page.values("id"))
    referenced = {ref for refs in page.values("aria-describedby") for ref in refs.split()}
    referenced |= set(page.values("for"))
    assert referenced and referenced <= ids


def test_staff_who_may_not_take_money_cannot_make_a_membership_active_by_hand(
    desk_client_without_payments,
):
    """Active by hand is a free membership: it needs the payment permission too."""
    membership = MembershipFactory(status=MembershipStatus.PENDING)
    response = desk_client_without_payments.post(
        reverse("staff_membership_status", args=[membership.member.pk]),
        {"status": "active", "reason": "Friend of the owner", "form_token": str(uuid.uuid4())},
    )
    assert response.status_code == 400
    assert "Only staff who may record payments" in response.content.decode()
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PENDING
    cancelled = desk_client_without_payments.post(
        reverse("staff_membership_status", args=[membership.member.pk]),
        {"status": "canceled", "reason": "Moved away", "form_token": str(uuid.uuid4())},
    )
    assert cancelled.status_code == 302
