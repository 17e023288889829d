"""Money by Stripe's minor-unit rules, and displayed in the space's locale."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from core.money import (
    CurrencyError,
    from_minor,
    minor_exponent,
    money_format,
    round_minor,
    to_minor,
)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("100.00", "usd", 10000),
        ("100", "USD", 10000),
        ("0.01", "eur", 1),
        ("10000", "krw", 10000),  # zero-decimal: 10,000 won is 10000, not 1000000
        ("500", "jpy", 500),
        ("1,250", "jpy", 1250),
        ("10.000", "bhd", 10000),  # three decimals
        ("1.230", "kwd", 1230),
        ("150", "isk", 15000),  # Stripe takes ISK with two decimals, always 00
    ],
)
def test_amounts_become_stripes_minor_units(amount, currency, minor):
    assert to_minor(amount, currency) == minor
    assert from_minor(minor, currency) == Decimal(amount.replace(",", ""))


@pytest.mark.parametrize(
    ("amount", "currency", "says"),
    [
        ("12.345", "usd", "more than 2 decimal places"),
        ("100.5", "krw", "KRW has no smaller unit"),
        ("1.234", "bhd", "not a multiple"),  # Stripe wants the last of three decimals 0
        ("1.5", "isk", "not a multiple"),
        ("ten", "usd", "not an amount"),
        ("NaN", "usd", "not an amount"),
        ("1", "us", "not a three-letter currency code"),
        ("1", "€€€", "not a three-letter currency code"),
    ],
)
def test_amounts_stripe_could_not_charge_are_refused(amount, currency, says):
    with pytest.raises(CurrencyError, match=says):
        to_minor(amount, currency)


def test_minor_exponents_follow_stripe():
    assert [minor_exponent(c) for c in ("usd", "krw", "jpy", "bhd", "isk", "huf")] == [
        2,
        0,
        0,
        3,
        2,
        2,
    ]


def test_computed_amounts_round_half_up_to_a_chargeable_amount():
    assert round_minor(Decimal("1234.5"), "usd") == 1235
    assert round_minor(Decimal("1234.4"), "krw") == 1234
    assert round_minor(Decimal("1235"), "bhd") == 1240
    assert round_minor(Decimal("1249"), "isk") == 1200


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "shown"),
    [
        (10000, "usd", "en_US", "$100.00"),
        (-550, "usd", "en_US", "-$5.50"),
        (10000, "krw", "ko_KR", "₩10,000"),
        (10000, "krw", "en_US", "₩10,000"),
        (123456, "eur", "de_DE", "1.234,56\xa0€"),
        (5000, "jpy", "ja_JP", "￥5,000"),
        (10000, "bhd", "en_US", "BHD10.000"),
        (15000, "isk", "en_US", "ISK150"),
    ],
)
def test_one_function_shows_money_in_the_locale(minor, currency, locale, shown):
    assert money_format(minor, currency, locale=locale) == shown


def test_the_space_locale_is_the_default(settings):
    settings.SPACE_LOCALE = "ko_KR"
    assert money_format(10000, "krw") == "₩10,000"
    assert money_format(None, "krw") == ""


@pytest.mark.parametrize(
    ("language", "space", "minor", "currency", "shown"),
    [
        ("ko", "en_US", 100000, "krw", "100,000원"),
        ("ko", "ko_KR", -5000, "krw", "-5,000원"),
        ("en", "en_US", 100000, "krw", "₩100,000"),
        ("en", "ko_KR", 100000, "krw", "₩100,000"),
        ("en", "en_US", 10000, "usd", "$100.00"),
        ("ko", "en_US", 10000, "usd", "US$100.00"),
        ("en", "de_DE", 123456, "eur", "1.234,56\xa0€"),
    ],
)
def test_money_is_written_in_the_readers_language(
    settings, language, space, minor, currency, shown
):
    """Korean readers see won after the number and no decimals; English readers keep the space's
    locale (docs/i18n.md)."""
    settings.SPACE_LOCALE = space
    with translation.override(language):
        assert money_format(minor, currency) == shown
