"""Member and staff pages: who may see what, and what each form changes."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from membership.cards import member_card_token
from membership.models import Badge, MembershipStatus, Payment
from tests.factories.membership import BadgeFactory, MemberFactory, MembershipFactory, WaiverFactory


def _token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_dashboard_lists_what_is_missing(member_client):
    WaiverFactory()
    page = member_client.get(reverse("dashboard")).content.decode()
    assert 'class="todo" data-step="waiver"' in page
    assert 'class="todo" data-step="badge"' in page
    assert 'class="done" data-step="payment"' in page


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_member_signs_the_waiver(member_client, member):
    waiver = WaiverFactory()
    page = member_client.get(reverse("waiver_sign")).content.decode()
    response = member_client.post(
        reverse("waiver_sign"),
        {"signed_name": "Ada Lovelace", "agree": "on", "form_token": _token(page)},
    )
    assert response.status_code == 302
    assert member.waiver_signatures.get().waiver == waiver


def test_card_page_shows_a_qr_code_staff_can_follow(member_client, member, client, staff_user):
    page = member_client.get(reverse("member_card")).content.decode()
    assert "<svg" in page
    client.force_login(staff_user)
    response = client.get(reverse("staff_card_scan", args=[member_card_token(member)]))
    assert response["Location"] == reverse("staff_member_detail", args=[member.pk])


def test_tampered_card_gets_a_clear_page(staff_client, member):
    response = staff_client.get(reverse("staff_card_scan", args=["forged:token"]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("staff_member_search", []),
        ("staff_member_detail", ["member"]),
    ],
)
def test_staff_pages_refuse_members(member_client, member, name, args):
    url = reverse(name, args=[member.pk for _ in args])
    response = member_client.get(url)
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_staff_actions_by_a_member_change_nothing(member_client, member):
    """A member posting to a staff action gets 403; no payment, no badge, no state change."""
    other = MembershipFactory(status=MembershipStatus.PENDING).member
    for name, data in [
        (
            "staff_payment_record",
            {"note": "", "form_token": "9b2b8c62-2f47-4f3e-9c8e-1f0e2f6c2b11"},
        ),
        (
            "staff_badge_assign",
            {"uid": "04A32B1C", "form_token": "8b2b8c62-2f47-4f3e-9c8e-1f0e2f6c2b11"},
        ),
        (
            "staff_membership_status",
            {
                "status": "active",
                "reason": "me",
                "form_token": "7b2b8c62-2f47-4f3e-9c8e-1f0e2f6c2b11",
            },
        ),
    ]:
        assert member_client.post(reverse(name, args=[other.pk]), data).status_code == 403
    other.membership.refresh_from_db()
    assert other.membership.status == MembershipStatus.PENDING
    assert not Payment.objects.exists() and not Badge.objects.exists()


def test_staff_find_a_member_by_badge_in_any_reader_format(staff_client, member):
    BadgeFactory(member=member, uid="04A32B1C")
    page = staff_client.get(reverse("staff_member_search"), {"q": "0077802268"}).content.decode()
    assert member.display_name in page


def test_staff_find_a_member_by_name(staff_client, member):
    page = staff_client.get(
        reverse("staff_member_search"), {"q": member.user.first_name}
    ).content.decode()
    assert reverse("staff_member_detail", args=[member.pk]) in page


def test_double_submitted_payment_form_records_one_payment(staff_client, member):
    detail = staff_client.get(reverse("staff_member_detail", args=[member.pk])).content.decode()
    token = re.search(
        r'action="{}">.*?name="form_token" value="([^"]+)"'.format(
            re.escape(reverse("staff_payment_record", args=[member.pk]))
        ),
        detail,
        re.S,
    ).group(1)
    url = reverse("staff_payment_record", args=[member.pk])
    first = staff_client.post(url, {"note": "cash", "form_token": token})
    second = staff_client.post(url, {"note": "cash", "form_token": token})
    assert first.status_code == 302 and second.status_code == 400
    assert "already submitted" in second.content.decode()
    assert Payment.objects.count() == 1


def test_someone_who_joined_before_any_plan_existed_can_pay_at_the_desk(staff_client, plan):
    member = MemberFactory()  # no membership: there was no plan when they signed up
    response = staff_client.post(
        reverse("staff_payment_record", args=[member.pk]),
        {"note": "cash", "form_token": "0b2b8c62-2f47-4f3e-9c8e-1f0e2f6c2b11"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.membership.plan, member.membership.status) == (plan, MembershipStatus.ACTIVE)
    assert Payment.objects.get().member == member


def test_without_any_plan_the_desk_says_what_to_set_up(staff_client):
    member = MemberFactory()
    response = staff_client.post(
        reverse("staff_membership_status", args=[member.pk]),
        {"status": "active", "reason": "Comped", "form_token": "1b2b8c62-2f47-4f3e-9c8e-1f0e2f6c2b11"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "no membership plan yet" in response.content.decode()


def test_staff_assign_badge_refuses_a_duplicate_clearly(staff_client, member):
    BadgeFactory(uid="04A32B1C")
    response = staff_client.post(
        reverse("staff_badge_assign", args=[member.pk]),
        {"uid": "04 a3 2b 1c", "form_token": "6b2b8c62-2f47-4f3e-9c8e-1f0e2f6c2b11"},
    )
    assert response.status_code == 400
    assert "already enabled for another member" in response.content.decode()
    assert not member.badges.exists()


def test_staff_set_state_with_reason(staff_client, member, staff_user):
    response = staff_client.post(
        reverse("staff_membership_status", args=[member.pk]),
        {
            "status": "canceled",
            "reason": "Moved to Ohio",
            "form_token": "5b2b8c62-2f47-4f3e-9c8e-1f0e2f6c2b11",
        },
    )
    assert response.status_code == 302
    change = member.membership.changes.get()
    assert (change.to_status, change.reason, change.actor) == (
        "canceled",
        "Moved to Ohio",
        staff_user,
    )


def test_a_refused_badge_form_says_what_to_correct(staff_client, member):
    """The disable and replace forms sit folded under each badge, so the page's message itself
    names the problem (a reason of only spaces) instead of pointing at errors nobody sees."""
    badge = BadgeFactory(member=member)
    response = staff_client.post(
        reverse("staff_badge_disable", args=[badge.pk]),
        {"reason": "   ", "form_token": "4b2b8c62-2f47-4f3e-9c8e-1f0e2f6c2b11"},
    )
    assert response.status_code == 400
    assert "Reason: This field is required." in response.content.decode()
    badge.refresh_from_db()
    assert badge.enabled
