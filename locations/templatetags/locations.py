"""`{{ value|local:thing }}`: a datetime in the zone of the location `thing` happens at.

For rows of different locations on one page (see `locations.zones`); `|date` after it formats it
without converting again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.templatetags.tz import datetimeobject

from core.time import utc
from locations.zones import zone_of

register = template.Library()


@register.filter
def local(value: datetime | None, thing: Any) -> Any:
    if not value:
        return value
    # Through UTC, keeping `fold`: Django's own `timezone` filter drops it, and shows the second
    # 01:30 of a fall-back night with the first one's offset.
    shown = utc(value).astimezone(zone_of(thing))
    result = datetimeobject(
        *shown.timetuple()[:6], shown.microsecond, shown.tzinfo, fold=shown.fold
    )
    result.convert_to_local_time = False  # `|date` after it must not convert it again
    return result
