"""Waitlist pages: join the waitlist for a taken span (from the grid), leave it, and the offer
page an email links to, which books the held time in one click or passes it on."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bookings import services, waitlist
from bookings.forms import WaitForm
from bookings.models import Wait
from bookings.outlook import member_outlook, wait_lengths
from bookings.states import WaitState
from core import formats
from core.errors import DomainError, DuplicateSubmission
from core.forms import OnceForm
from core.time import add_duration, parse_instant, wall_clock_label
from equipment.selectors import machines_bookable
from locations.zones import activate
from membership.services import member_get_or_create


def _calendar_url(wait_or_machine, start) -> str:
    slug = getattr(wait_or_machine, "slug", None) or wait_or_machine.machine.slug
    # The day, not only its week: a phone shows one day, and it should be the one waited for.
    day = timezone.localtime(start).date()
    return f"{reverse('bookings:machine_calendar', args=[slug])}?day={day}"


@login_required
def wait_new(request, slug: str):
    """GET: "Join the waitlist?" from a taken slot (a panel by htmx, or a page): the lengths
    from its start the member may wait for, preselected to the end of the booking clicked
    (`end`). POST: join for the chosen length."""
    machine = get_object_or_404(machines_bookable(), slug=slug)
    activate(machine)  # its times in its location's zone
    member = member_get_or_create(user=request.user)
    if request.method == "GET":
        zone = timezone.get_current_timezone()
        start = parse_instant(request.GET.get("start", ""), zone)
        if start is None:
            raise BadRequest(_("Choose a booked time on the grid: that link names no time."))
        until = parse_instant(request.GET.get("end", ""), zone)
        lengths = wait_lengths(member=member, machine=machine, start=start, until=until)
        context = {
            "machine": machine,
            "start": start,
            "start_time": wall_clock_label(start, zone),
            "lengths": lengths,
            "form": WaitForm(
                machine=machine,
                lengths=lengths.minutes,
                initial={"start": start, "minutes": lengths.default},
            ),
            "outlook": member_outlook(member=member, machine=machine),
            "calendar_url": _calendar_url(machine, start),
        }
        template = "bookings/_wait_confirm.html" if request.htmx else "bookings/wait_new.html"
        return render(request, template, context)
    form = WaitForm(request.POST, machine=machine)
    if not form.is_valid():
        raise BadRequest(_("Choose a booked time on the grid to wait for."))
    start = form.cleaned_data["start"]
    # Real minutes, as a booking's length: across a clock change the wall clock differs.
    end = add_duration(start, timedelta(minutes=form.cleaned_data["minutes"]))
    try:
        waitlist.wait_join(
            member=member,
            machine=machine,
            start=start,
            end=end,
            token=form.cleaned_data["form_token"],
        )
    except DuplicateSubmission:
        pass  # the first submit joined and says so on the page it went to
    except DomainError as rejected:
        messages.error(request, rejected.message)
    else:
        messages.success(
            request,
            _(
                "You are on the waitlist for %(machine)s, %(span)s. If it frees up and you are "
                "first, we email you a link to book it."
            )
            % {"machine": machine.name, "span": formats.format_span(start, end)},
        )
    return redirect(_calendar_url(machine, start))


def _own_wait(request, pk: int) -> Wait:
    wait = get_object_or_404(Wait.objects.select_related("machine", "member"), pk=pk)
    if wait.member.user_id != request.user.pk:
        raise Http404  # someone else's place in line is none of this member's business
    activate(wait)  # its times in its location's zone
    return wait


@login_required
@require_POST
def wait_leave(request, pk: int):
    wait = _own_wait(request, pk)
    form = OnceForm(request.POST)
    if form.is_valid():
        try:
            waitlist.wait_leave(
                wait=wait, actor=request.user, token=form.cleaned_data["form_token"]
            )
        except DuplicateSubmission:
            pass
        except DomainError as rejected:
            messages.error(request, rejected.message)
        else:
            messages.success(
                request, _("You left the %(machine)s waitlist.") % {"machine": wait.machine.name}
            )
    return redirect("bookings:my_bookings")


@login_required
def wait_offer(request, pk: int):
    """GET: the offer, with "Book it" and "No thanks". POST: book it (the same rules as any
    booking), or decline it (`decline` in the form) so the next member gets it."""
    wait = _own_wait(request, pk)
    if request.method == "POST":
        form = OnceForm(request.POST)
        if not form.is_valid():
            raise BadRequest(_("The offer form was incomplete; nothing was changed."))
        token = form.cleaned_data["form_token"]
        try:
            if "decline" in request.POST:
                waitlist.wait_offer_decline(wait=wait, actor=request.user, token=token)
                messages.success(request, _("Passed on to the next member waiting. Thank you."))
                return redirect("bookings:my_bookings")
            booking = services.wait_offer_accept(wait=wait, actor=request.user, token=token)
        except DuplicateSubmission:
            return redirect("bookings:my_bookings")
        except DomainError as rejected:
            messages.error(request, rejected.message)
            return redirect(reverse("bookings:wait_offer", args=[wait.pk]))
        messages.success(
            request,
            _("Booked %(machine)s, %(start)s to %(end)s.")
            % {
                "machine": booking.machine.name,
                "start": formats.format_moment(booking.start),
                "end": formats.format_time(booking.end),
            },
        )
        return redirect("bookings:my_bookings")
    is_open = wait.state == WaitState.OFFERED and wait.offer_until > timezone.now()
    return render(
        request, "bookings/wait_offer.html", {"wait": wait, "form": OnceForm(), "open": is_open}
    )
