"""Template filters shared by every app's pages."""

from django import template

from core.money import money_format

register = template.Library()


@register.filter
def money(amount_minor: int | None, currency: str = "usd") -> str:
    """`10000|money:"usd"` -> `$100.00`; `10000|money:"krw"` -> `₩10,000` (core.money)."""
    return money_format(amount_minor, currency or "usd")


@register.inclusion_tag("membership/_join_steps.html")
def join_steps():
    """The membership price and the steps to start, for the home page and Join."""
    from membership.models import Plan

    plan = Plan.objects.filter(is_default=True).first() or Plan.objects.first()
    return {"plan": plan}
