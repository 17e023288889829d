"""A person's own language: their emails are written in it, and the site speaks it on a device
where they chose none; the switcher and the profile set it."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from core.languages import mail_people
from membership.billing import desk_emails, emails
from membership.billing.catalogue import MaterialSale
from tests.factories.membership import MaterialFactory, ready_member

pytestmark = pytest.mark.django_db


def _person(language: str, email: str):
    member = ready_member()
    member.user.language, member.user.email = language, email
    member.user.save()
    return member.user


def test_one_email_per_language_each_composed_in_it(mailoutbox):
    people = [_person("ko", "b@example.com"), _person("en", "a@example.com")]
    people.append(_person("ko", "c@example.com"))
    people.append(_person("", "d@example.com"))  # none chosen: the space's language (en)
    sent = mail_people(people, lambda: (_("Save"), _("Cancel")))
    assert sent == 4
    assert sorted((m.subject, m.body, tuple(m.to)) for m in mailoutbox) == [
        ("Save", "Cancel", ("a@example.com", "d@example.com")),
        ("저장", "취소", ("b@example.com", "c@example.com")),
    ]


def test_a_billing_email_is_in_the_members_language(mailoutbox):
    member = ready_member()
    member.user.language = "ko"
    member.user.save()
    emails.billing_email_send(kind=emails.PAYMENT_FAILED, membership_id=member.membership.pk)
    (email,) = mailoutbox
    assert "멤버십" in email.subject and "Hello" not in email.body


def test_the_pay_by_link_email_is_in_the_members_language(mailoutbox):
    member = ready_member()
    member.user.language = "ko"
    member.user.save()
    sale = MaterialSale.objects.create(
        material=MaterialFactory(),
        member=member,
        quantity=1,
        unit_price_minor=1200,
        total_minor=1200,
        currency="usd",
        method="stripe",
        state=MaterialSale.State.AWAITING,
        pay_url="https://checkout.stripe.com/pay/cs_test_1",
        sold_by=_person("en", "desk@example.com"),
    )
    desk_emails.pay_link_email(sale_id=sale.pk)
    (email,) = mailoutbox
    assert "Please confirm" not in email.subject and sale.pay_url in email.body


def test_signed_in_with_no_choice_on_this_device_the_site_speaks_their_language(client):
    user = _person("ko", "k@example.com")
    client.force_login(user)
    assert (
        client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en").headers["Content-Language"]
        == "ko"
    )
    client.cookies["django_language"] = "en"  # a choice made on this device wins
    assert client.get(reverse("dashboard")).headers["Content-Language"] == "en"


def test_the_switcher_keeps_a_signed_in_persons_choice(client):
    user = _person("en", "s@example.com")
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "ko", "next": "/"})
    assert response.status_code == 302 and response.cookies["django_language"].value == "ko"
    user.refresh_from_db()
    assert user.language == "ko"


def test_the_switcher_for_a_visitor_sets_only_the_cookie(client):
    response = client.post(reverse("set_language"), {"language": "ko", "next": "/"})
    assert response.cookies["django_language"].value == "ko"


def test_the_profile_sets_the_language_and_answers_in_it(client):
    user = _person("en", "p@example.com")
    client.force_login(user)
    response = client.post(
        reverse("profile"),
        {
            "first_name": "Maya",
            "last_name": "Maker",
            "language": "ko",
            "form_token": uuid.uuid4(),
        },
        follow=True,
    )
    user.refresh_from_db()
    assert user.language == "ko"
    assert response.headers["Content-Language"] == "ko"


def test_sign_up_keeps_the_language_it_was_made_in(client):
    client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "password1": "a long enough passphrase 42",
            "password2": "a long enough passphrase 42",
            "first_name": "Ji-woo",
            "last_name": "Kim",
        },
        HTTP_ACCEPT_LANGUAGE="ko",
    )
    from membership.models import User

    assert User.objects.get(email="new@example.com").language == "ko"
