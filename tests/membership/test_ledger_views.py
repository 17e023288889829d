"""The ledger on the member's billing page and the staff member page; staff reversals."""

from __future__ import annotations

import uuid

from django.urls import reverse

from membership import services
from membership.models import LedgerEntry
from tests.factories.membership import MembershipFactory, PlanFactory, UserFactory


def test_staff_reverse_a_mistaken_cash_entry_with_a_reason(staff_client, staff_user, member):
    services.payment_record_manual(member=member, actor=staff_user)
    entry = LedgerEntry.objects.get(member=member)
    page = staff_client.get(reverse("staff_member_detail", args=[member.pk])).content.decode()
    assert f'data-entry="{entry.pk}"' in page and "$100.00" in page
    response = staff_client.post(
        reverse("staff_ledger_reverse", args=[entry.pk]),
        {"reason": "Recorded on the wrong member", "form_token": uuid.uuid4()},
        follow=True,
    )
    assert f"Entry {entry.pk} reversed" in response.content.decode()
    reversal = LedgerEntry.objects.get(reverses=entry)
    assert (reversal.amount_minor, reversal.recorded_by) == (-10000, staff_user)
    assert "-$100.00" in response.content.decode()


def test_a_reversal_without_a_reason_is_refused(staff_client, staff_user, member):
    services.payment_record_manual(member=member, actor=staff_user)
    entry = LedgerEntry.objects.get(member=member)
    response = staff_client.post(
        reverse("staff_ledger_reverse", args=[entry.pk]),
        {"reason": "   ", "form_token": uuid.uuid4()},
    )
    assert response.status_code == 400
    assert not LedgerEntry.objects.filter(reverses=entry).exists()


def test_staff_who_may_not_take_money_cannot_reverse(client, member, staff_user):
    from django.contrib.auth.models import Permission

    services.payment_record_manual(member=member, actor=staff_user)
    desk = UserFactory()
    desk.user_permissions.add(Permission.objects.get(codename="manage_members"))
    client.force_login(desk)
    entry = LedgerEntry.objects.get(member=member)
    response = client.post(
        reverse("staff_ledger_reverse", args=[entry.pk]),
        {"reason": "x", "form_token": uuid.uuid4()},
    )
    assert response.status_code == 403


def test_members_see_their_entries_and_balances_in_their_currency(client, staff_user, settings):
    settings.SPACE_LOCALE = "ko_KR"
    member = MembershipFactory(
        plan=PlanFactory(name="월 회원", monthly_price_cents=50000, currency="krw")
    ).member
    services.payment_record_manual(member=member, actor=staff_user)
    client.force_login(member.user)
    page = client.get(reverse("membership_billing")).content.decode()
    assert "Paid: <strong>₩50,000</strong>" in page
    assert "data-ledger" in page and "Cash at the desk" in page
    assert "Reverse" not in page


def test_each_reverse_button_on_one_page_has_its_own_form_token(staff_client, staff_user, member):
    """Two mistaken entries reversed from one rendering of the page: both are reversed (one
    shared token would make the second a 'sent twice' that changes nothing)."""
    import re

    services.payment_record_manual(member=member, actor=staff_user)
    services.payment_record_manual(member=member, actor=staff_user)
    entries = list(LedgerEntry.objects.filter(member=member).order_by("pk"))
    page = staff_client.get(reverse("staff_member_detail", args=[member.pk])).content.decode()
    tokens = {
        int(pk): token
        for pk, token in re.findall(
            r'action="/staff/ledger/(\d+)/reverse/">.*?name="form_token" value="([^"]+)"',
            page,
            re.S,
        )
    }
    assert set(tokens) == {e.pk for e in entries} and len(set(tokens.values())) == 2
    for entry in entries:
        staff_client.post(
            reverse("staff_ledger_reverse", args=[entry.pk]),
            {"reason": "Recorded twice", "form_token": tokens[entry.pk]},
        )
    assert LedgerEntry.objects.filter(reverses__in=entries).count() == 2
