"""`{% load booking_tags %}{% machine_booking_status machine %}`: on a machine card or page
(equipment cannot import bookings), whether the viewer can book it, why not, and what fixes it."""

from __future__ import annotations

from datetime import timedelta

from django import template

from bookings import selectors
from bookings.outlook import Outlook, booking_actions, member_outlook
from bookings.states import WaitState
from core import clock
from membership.services import member_get_or_create

register = template.Library()


@register.inclusion_tag("bookings/_machine_booking_status.html", takes_context=True)
def machine_booking_status(context, machine):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"machine": machine, "anonymous": True, "outlook": Outlook()}
    if user.has_perm("bookings.manage_bookings", machine):
        outlook = Outlook()
    else:
        outlook = member_outlook(member=member_get_or_create(user=user), machine=machine)
    return {"machine": machine, "anonymous": False, "outlook": outlook}


@register.inclusion_tag("bookings/_member_home.html", takes_context=True)
def member_bookings_home(context, member):
    """The top of a member's dashboard: the booking running now or next, with what can be done
    with it, then the next few."""
    request = context["request"]
    now = clock.now()
    upcoming = list(
        selectors.member_bookings_upcoming(member, now=now)
        .select_related("member")
        .order_by("start")[:6]
    )
    top = booking_actions(upcoming[0], user=request.user, now=now) if upcoming else None
    return {
        "offers": selectors.member_waits_open(member).filter(
            state=WaitState.OFFERED, offer_until__gt=now
        ),
        "top": top,
        "later": upcoming[1:],
        "now": now,
        "check_in_opens": selectors.check_in_opens() // timedelta(minutes=1),
        "next": request.get_full_path(),
        "request": request,
    }
