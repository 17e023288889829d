"""Front-desk staff on a busy evening: take a newcomer's first payment and badge, replace a lost
card, survive a double click; members cannot open the desk."""

from __future__ import annotations

import re

import pytest

from membership import roles, selectors
from membership.cards import member_card_token
from membership.models import Badge, MembershipStatus, Payment
from tests.factories.membership import (
    PASSWORD,
    BadgeFactory,
    MembershipFactory,
    UserFactory,
    WaiverFactory,
    WaiverSignatureFactory,
    ready_member,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _newcomer():
    """Signed up and signed the waiver online, has not paid, holds no badge."""
    member = MembershipFactory(
        status=MembershipStatus.PENDING,
        current_period_end=None,
        member__user__first_name="Ned",
        member__user__last_name="Newbie",
    ).member
    WaiverSignatureFactory(member=member, waiver=WaiverFactory())
    return member


def _open_member_found_by(page, query: str, name: str) -> None:
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Staff", exact=True).click()  # the staff menu, grouped: Desk first
    nav.get_by_role("link", name="Front desk").click()
    page.get_by_label("Name, email or badge UID").fill(query)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=name).click()
    page.get_by_role("heading", name=name).wait_for()


def test_a_newcomer_pays_cash_gets_a_badge_and_is_ready_to_make(page, log_in):
    member = _newcomer()
    log_in(UserFactory(role=roles.STAFF, first_name="Sam", last_name="Staffer"), PASSWORD)

    _open_member_found_by(page, "ned newbie", "Ned Newbie")
    membership_card = page.get_by_role("region", name="Membership")
    assert "Pending" in membership_card.inner_text()
    page.get_by_label("Note (receipt number, method)").fill("cash, receipt 0412")
    page.get_by_role("button", name="Record payment of $100.00").click()
    page.get_by_text("Payment recorded: the membership runs one more month.").wait_for()
    assert "Active" in membership_card.inner_text()
    payment_row = page.locator("tr", has_text="cash, receipt 0412").first  # then its ledger entry
    assert "$100.00" in payment_row.inner_text()
    assert "Sam Staffer" in payment_row.inner_text()

    page.get_by_label("Badge UID", exact=True).fill("04:a3:2b:1c")
    page.get_by_role("button", name="Assign badge").click()
    page.get_by_text("Badge assigned.").wait_for()
    badges = page.get_by_role("region", name="Badges")
    assert "04A32B1C" in badges.inner_text()
    assert "enabled" in badges.inner_text()

    payment = Payment.objects.get()
    assert (payment.member, payment.amount_cents, payment.method) == (member, 10000, "manual")
    member.membership.refresh_from_db()
    assert member.membership.status == MembershipStatus.ACTIVE
    assert member.membership.current_period_end == payment.period_end
    assert selectors.member_by_badge("04A32B1C") == member
    assert selectors.member_may_use_machines(member)

    # The member's own dashboard agrees: nothing is left to do before using a machine.
    page.locator("nav .menu summary").last.click()  # the account menu
    page.get_by_role("button", name="Log out").click()
    log_in(member.user, PASSWORD)
    page.get_by_role("heading", name="You're ready to make").wait_for()
    for step in ("payment", "waiver", "badge"):
        assert page.locator(f'[data-step="{step}"]').get_attribute("class") == "done"
    assert "Badge 04A32B1C is active." in page.locator('[data-step="badge"]').inner_text()


def test_a_lost_card_is_found_by_its_uid_disabled_and_replaced(page, log_in):
    member = ready_member(member__user__first_name="Maya", member__user__last_name="Maker")
    old = member.badges.get()
    log_in(UserFactory(role=roles.STAFF), PASSWORD)

    # The member remembers the number printed on the lost card, in the reader's decimal form.
    _open_member_found_by(page, f"{int(old.uid, 16):010d}", "Maya Maker")
    badges = page.get_by_role("region", name="Badges")
    replace_form = badges.locator("form", has_text="New badge UID")
    # Typing the lost card's own number as the new one is refused: the lost card stays enabled.
    badges.get_by_text("Disable or replace").click()
    replace_form.get_by_label("New badge UID").fill(old.uid.lower())
    replace_form.get_by_role("button", name="Replace lost card").click()
    page.get_by_text(f"{old.uid} is the lost card itself").wait_for()
    assert selectors.member_by_badge(old.uid) == member

    badges.get_by_text("Disable or replace").click()
    replace_form.get_by_label("New badge UID").fill("04 b7 7c 10")
    replace_form.get_by_label("Reason").fill("Lost at the bus stop")
    replace_form.get_by_role("button", name="Replace lost card").click()
    page.get_by_text(f"Badge {old.uid} replaced; the old card no longer works.").wait_for()
    old_row = badges.get_by_role("listitem").filter(has_text=old.uid)
    assert "disabled" in old_row.inner_text()
    assert "Lost at the bus stop" in old_row.inner_text()
    assert "enabled" in badges.get_by_role("listitem").filter(has_text="04B77C10").inner_text()

    old.refresh_from_db()
    assert (old.enabled, old.disabled_reason) == (False, "Lost at the bus stop")
    assert old.replaced_by == Badge.objects.get(uid="04B77C10", enabled=True)
    assert selectors.member_by_badge(old.uid) is None
    assert selectors.member_by_badge("04B77C10") == member

    # The desk finds the member by the new card too.
    _open_member_found_by(page, "04b77c10", "Maya Maker")


def _answer_next_dialog(page, *, accept: bool) -> list[str]:
    """Accept or dismiss the next confirmation; the returned list receives its question."""
    asked = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", answer)
    return asked


def test_a_stolen_card_is_disabled_with_a_reason(page, log_in):
    member = ready_member(member__user__first_name="Ada", member__user__last_name="Alvarez")
    badge = member.badges.get()
    question = f"Disable badge {badge.uid} for Ada Alvarez?"
    log_in(UserFactory(role=roles.STAFF), PASSWORD)

    _open_member_found_by(page, badge.uid.lower(), "Ada Alvarez")
    page.get_by_role("heading", name="May use machines").wait_for()
    badges = page.get_by_role("region", name="Badges")
    disable_form = badges.locator("form", has_text="Disable badge")
    # A reason of spaces passes the browser's check; the page says what is wrong.
    badges.get_by_text("Disable or replace").click()
    disable_form.get_by_label("Reason").fill("  ")
    _answer_next_dialog(page, accept=True)
    disable_form.get_by_role("button", name="Disable badge").click()
    page.get_by_text("Please correct the form: Reason: This field is required.").wait_for()

    # Locking a member out asks first; saying no sends nothing and leaves the button usable.
    badges.get_by_text("Disable or replace").click()
    disable_form.get_by_label("Reason").fill("Stolen with her wallet")
    asked = _answer_next_dialog(page, accept=False)
    disable_form.get_by_role("button", name="Disable badge").click()
    assert asked == [question]
    badge.refresh_from_db()
    assert badge.enabled

    asked = _answer_next_dialog(page, accept=True)
    disable_form.get_by_role("button", name="Disable badge").click()
    page.get_by_text(f"Badge {badge.uid} disabled.").wait_for()
    assert asked == [question]
    assert "Stolen with her wallet" in badges.inner_text()
    page.get_by_role("heading", name="May not use machines yet").wait_for()
    assert page.locator('[data-step="badge"]').get_attribute("class") == "todo"

    badge.refresh_from_db()
    assert (badge.enabled, badge.disabled_reason) == (False, "Stolen with her wallet")
    assert not selectors.member_may_use_machines(member)


def test_double_clicking_record_payment_records_one_payment(page, log_in):
    member = _newcomer()
    log_in(UserFactory(role=roles.STAFF), PASSWORD)
    page.goto(f"/staff/members/{member.pk}/")

    page.get_by_role("button", name="Record payment").dblclick()
    page.get_by_text("Payment recorded: the membership runs one more month.").wait_for()
    assert page.get_by_text("already submitted").count() == 0
    assert page.locator("tr", has_text="Manual (recorded by staff)").count() == 1
    assert Payment.objects.filter(member=member).count() == 1


def test_staff_cancel_a_membership_with_a_reason_kept_in_its_history(page, log_in):
    member = ready_member(member__user__first_name="Otto", member__user__last_name="Ohio")
    staff = UserFactory(role=roles.STAFF, first_name="Sam", last_name="Staffer")
    log_in(staff, PASSWORD)

    _open_member_found_by(page, member.user.email, "Otto Ohio")
    page.get_by_text("Set membership state").click()
    page.get_by_label("State").select_option(label="Cancelled")
    page.get_by_role("textbox", name="Reason").fill("Moved to Ohio")
    page.get_by_role("button", name="Change state").click()
    page.get_by_text("Membership state changed.").wait_for()
    history = page.locator("tr", has_text="Moved to Ohio").inner_text()
    assert "Active → Cancelled" in history and "Sam Staffer" in history

    member.membership.refresh_from_db()
    assert member.membership.status == MembershipStatus.CANCELED
    assert not selectors.member_may_use_machines(member)


def test_staff_scan_a_member_card_and_land_on_the_member(page, log_in):
    member = ready_member(member__user__first_name="Kim", member__user__last_name="Kwan")
    log_in(UserFactory(role=roles.STAFF), PASSWORD)

    page.goto(f"/staff/card/{member_card_token(member)}/")
    page.get_by_role("heading", name="Kim Kwan").wait_for()
    page.goto("/staff/card/not-a-card/")
    page.get_by_text("This member card is not valid").wait_for()


@pytest.mark.parametrize(
    "path", ["/staff/members/?q=a", "/staff/members/{pk}/", "/staff/card/{token}/"]
)
def test_a_member_cannot_open_the_front_desk(page, log_in, path):
    member = ready_member()
    other = BadgeFactory().member
    log_in(member.user, PASSWORD)
    assert page.get_by_role("link", name="Front desk").count() == 0

    response = page.goto(path.format(pk=other.pk, token=member_card_token(other)))
    assert response.status == 403
    page.get_by_role("heading", name="Not allowed").wait_for()


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(page):
    member = ready_member()
    page.goto(f"/staff/members/{member.pk}/")
    page.wait_for_url(re.compile(rf"/accounts/login/\?next=/staff/members/{member.pk}/$"))
    page.get_by_role("button", name="Log in", exact=True).wait_for()
