"""Member card tokens: signed, expiring, refused when altered."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from membership.cards import member_card_token, member_from_card_token, qr_svg
from membership.errors import CardTokenInvalid


def test_card_token_names_its_member(member):
    assert member_from_card_token(member_card_token(member)) == member


def test_expired_card_is_refused(member, settings):
    token = member_card_token(member)
    later = timezone.now() + timedelta(seconds=settings.MEMBER_CARD_MAX_AGE_SECONDS + 5)
    with time_machine.travel(later), pytest.raises(CardTokenInvalid, match="expired"):
        member_from_card_token(token)


@pytest.mark.parametrize(
    "mutate", [lambda t: t[:-2] + "xx", lambda t: "x" + t, lambda t: "garbage"]
)
def test_tampered_card_is_refused(member, mutate):
    with pytest.raises(CardTokenInvalid, match="not valid"):
        member_from_card_token(mutate(member_card_token(member)))


def test_qr_code_is_an_svg():
    assert qr_svg("https://example.org/staff/card/abc/").lstrip().startswith("<?xml")
