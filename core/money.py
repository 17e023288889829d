"""Money in integer minor units, by Stripe's rules, and the one function that displays it.

Every amount Toolgate stores or sends to Stripe is an integer count of the currency's smallest
unit as Stripe counts it: 10000 means $100.00 in USD but ₩10,000 in KRW (a zero-decimal currency)
and 10.000 BHD in Bahraini dinars (three decimals). `money_format` renders an amount in the space's
locale (`SPACE_LOCALE`) with CLDR's symbols and grouping (Babel), in the reader's language
(docs/i18n.md): Korean writes its own won after the number, 100,000원. Pure: no database.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel import Locale
from babel.numbers import format_currency
from django.conf import settings
from django.utils.translation import get_language

# https://docs.stripe.com/currencies#zero-decimal: the amount is the whole number of units.
ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
# https://docs.stripe.com/currencies#three-decimal: three decimals, and Stripe requires the last
# digit to be 0 (amounts are multiples of 10 minor units).
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
# Stripe's special case: ISK has no minor unit, yet the API takes it with two decimals that must
# be 00 (amounts are multiples of 100).
WHOLE_UNITS_IN_TWO_DECIMALS = frozenset({"isk"})


class CurrencyError(ValueError):
    """Not an amount Stripe could charge in this currency (or not a currency code)."""


def currency_code(currency: str) -> str:
    """The lowercase ISO 4217 code Stripe wants; refuses anything that is not three letters."""
    code = (currency or "").strip().lower()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise CurrencyError(f"{currency!r} is not a three-letter currency code.")
    return code


def minor_exponent(currency: str) -> int:
    """How many decimal places one minor unit is worth in Stripe's API (0, 2 or 3)."""
    code = currency_code(currency)
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def minor_step(currency: str) -> int:
    """The smallest amount Stripe accepts a multiple of: 1, except 10 (three-decimal), 100 (ISK)."""
    code = currency_code(currency)
    if code in THREE_DECIMAL:
        return 10
    if code in WHOLE_UNITS_IN_TWO_DECIMALS:
        return 100
    return 1


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """`Decimal("100.00")`, "usd" -> 10000; "10000", "krw" -> 10000. Refuses fractions of the
    currency's smallest unit (12.345 USD, 100.5 KRW) instead of rounding money away."""
    try:
        value = Decimal(str(amount).strip().replace(",", ""))
    except InvalidOperation:
        raise CurrencyError(f"{amount!r} is not an amount.") from None
    if not value.is_finite():
        raise CurrencyError(f"{amount!r} is not an amount.")
    scaled = value.scaleb(minor_exponent(currency))
    if scaled != scaled.to_integral_value():
        places = minor_exponent(currency)
        raise CurrencyError(
            f"{amount} {currency.upper()} has more than {places} decimal place"
            f"{'' if places == 1 else 's'}."
            if places
            else f"{currency.upper()} has no smaller unit: {amount} is not a whole amount."
        )
    minor = int(scaled)
    step = minor_step(currency)
    if minor % step:
        raise CurrencyError(f"{amount} {currency.upper()} is not a multiple of what Stripe takes.")
    return minor


def from_minor(amount_minor: int, currency: str) -> Decimal:
    """10000, "usd" -> Decimal("100.00"); 10000, "krw" -> Decimal("10000")."""
    exponent = minor_exponent(currency)
    return Decimal(amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def round_minor(amount: Decimal, currency: str) -> int:
    """An exact amount in minor units (a computed price) rounded half up to a chargeable one."""
    step = minor_step(currency)
    return int((amount / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * step


# Where a language writes a currency its own way rather than CLDR's (whose Korean puts ₩ first,
# as a foreign symbol): the pattern for Babel, by language and currency. Zero-decimal stays so.
OWN_PATTERN = {("ko", "krw"): "#,##0원"}


def _reader_language() -> str:
    return (get_language() or settings.LANGUAGE_CODE).split("-")[0]


def _reader_locale(language: str) -> str:
    """The space's locale for readers of its own language or of the site's default one (English
    readers of a US space see `$100.00` as before); the language itself for anyone else."""
    space = settings.SPACE_LOCALE
    if language in {Locale.parse(space).language, settings.LANGUAGE_CODE.split("-")[0]}:
        return space
    return language


def money_format(amount_minor: int | None, currency: str, *, locale: str | None = None) -> str:
    """The amount as a person reads it in the space's locale and the active language: `$100.00`,
    `₩10,000`, `-€5,00`; in Korean `100,000원`."""
    if amount_minor is None:
        return ""
    code = currency_code(currency)
    language = _reader_language()
    return format_currency(
        from_minor(amount_minor, code),
        code.upper(),
        format=OWN_PATTERN.get((language, code)),
        locale=locale or _reader_locale(language),
        # CLDR's own decimals for display (ISK shows no decimals even though Stripe counts two).
        currency_digits=True,
    )
