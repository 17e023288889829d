"""Template filters shared by every app's pages."""

from django import template

register = template.Library()


@register.filter
def money(cents: int | None, currency: str = "usd") -> str:
    """`10000|money:"usd"` -> `$100.00`."""
    if cents is None:
        return ""
    code = (currency or "usd").lower()
    prefix = "$" if code == "usd" else f"{code.upper()} "
    return f"{prefix}{cents / 100:,.2f}"
