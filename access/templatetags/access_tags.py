"""Template filters of the gate and machine-time pages."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.translation import gettext

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """`1 h 05 min`, `12 min`; empty for no value (a session still running)."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return gettext("%(hours)s h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return gettext("%(minutes)s min") % {"minutes": minutes}


@register.filter
def clock_ms(value: datetime | None) -> str:
    """`14:03:07.412` in the current zone: delivery times to the millisecond (Django's `date`
    filter has no milliseconds)."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%H:%M:%S.%f")[:-3]
