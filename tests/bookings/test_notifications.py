"""Booking emails are written in their member's own language (`User.language`), whatever the
language of the request or task that sends them."""

from __future__ import annotations

import re

from django.conf import settings
from django.core import mail
from django.utils import translation

from bookings import services, waitlist
from bookings.models import WaitState
from tests.bookings.conftest import at
from tests.factories.equipment import certify
from tests.factories.membership import ready_member


def names() -> set[str]:
    """The words that stay English in a Korean email: the machine's and the space's names, and
    the zone a time is told in."""
    return {"Laser", "cutter", "PST", *settings.SPACE_NAME.split()}


def reading(language: str, laser):
    member = ready_member()
    certify(member, laser.required_certification)
    member.user.first_name = "지민"
    member.user.language = language
    member.user.save(update_fields=["first_name", "language"])
    return member


def english_words(text: str) -> set[str]:
    """The English words of an email, leaving out its addresses and the names it carries."""
    return set(re.findall(r"[A-Za-z]{2,}", re.sub(r"https?://\S+", "", text))) - names()


def test_a_member_reading_korean_gets_the_booking_confirmation_in_korean(
    laser, django_capture_on_commit_callbacks
):
    """Booked from an English page, the confirmation still goes out in the member's Korean:
    subject, sentences and the date as Korean writes it."""
    member = reading("ko", laser)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.booking_create(member=member, machine=laser, start=at(1, 10), end=at(1, 11))
    [email] = mail.outbox
    assert email.to == [member.user.email]
    assert email.subject.endswith("예약 완료: Laser cutter")
    assert "예약이 확정되었습니다:" in email.body
    assert "2030년 1월 8일 (화) 10:00 PST부터 11:00까지" in email.body
    assert english_words(f"{email.subject}\n{email.body}") == set()


def test_a_member_reading_english_gets_it_in_english_from_a_korean_request(
    laser, django_capture_on_commit_callbacks
):
    member = reading("en", laser)
    with translation.override("ko"), django_capture_on_commit_callbacks(execute=True):
        services.booking_create(member=member, machine=laser, start=at(1, 10), end=at(1, 11))
    [email] = mail.outbox
    assert email.subject.endswith("Booked: Laser cutter")
    assert "Your booking is confirmed:" in email.body
    assert "Tue 8 Jan 2030, 10:00 PST to 11:00" in email.body


def test_a_waitlist_offer_to_a_member_reading_korean_is_in_korean(
    laser, django_capture_on_commit_callbacks
):
    """The freed time's offer, its deadline and the one-click link, in Korean, though the
    member whose cancellation freed it reads English."""
    holder = reading("en", laser)
    booking = services.booking_create(member=holder, machine=laser, start=at(1, 10), end=at(1, 12))
    waiting = reading("ko", laser)
    wait = waitlist.wait_join(member=waiting, machine=laser, start=at(1, 10), end=at(1, 12))
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, actor=holder.user)
    wait.refresh_from_db()
    assert wait.state == WaitState.OFFERED
    offer = next(email for email in mail.outbox if email.to == [waiting.user.email])
    assert offer.subject.endswith("빈자리: Laser cutter, 08:30까지 회원님을 위해 잡아 두었습니다")
    assert "기다리시던 시간이 비었습니다:" in offer.body
    assert "08:30까지 회원님을 위해 잡아 두었습니다. 여기에서 한 번에 예약하세요:" in offer.body
    assert f"/bookings/waits/{wait.pk}/offer/" in offer.body
    assert english_words(f"{offer.subject}\n{offer.body}") == set()
