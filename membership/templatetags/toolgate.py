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


@register.inclusion_tag("membership/_join_steps.html")
def join_steps():
    """The membership price and the steps to start, for the home page and Join."""
    from membership.models import Plan

    plan = Plan.objects.filter(is_default=True).first() or Plan.objects.first()
    return {"plan": plan}
