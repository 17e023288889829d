"""Booking pages: a machine's week grid (htmx), the booking form, my bookings, staff's day, feeds."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import BadRequest
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap

from bookings import feeds, selectors, services
from bookings.errors import BookingRejected, FeedTokenInvalid
from bookings.forms import BookingForm, CancelForm, ExtendForm, HandOverForm, MaintenanceForm
from bookings.models import Booking
from bookings.outlook import (
    Outlook,
    bookable_areas,
    booking_actions,
    booking_lengths,
    member_outlook,
)
from bookings.outlook import area_day as outlook_area_day
from core import formats
from core.errors import DomainError, DuplicateSubmission
from core.forms import OnceForm
from core.languages import language_of
from core.time import add_duration, parse_instant, wall_clock_label, week_start
from equipment.models import Machine
from equipment.selectors import machines_bookable, user_may_service
from locations.zones import activate
from membership.models import Member
from membership.services import member_get_or_create
from staffing.selectors import staff_scope
from staffing.services import require_at_location
from staffing.shortcuts import staff_object_or_404

booking_staff_required = permission_required("bookings.manage_bookings", raise_exception=True)


def _is_booking_staff(user, machine: Machine) -> bool:
    """Staff who manage bookings where `machine` is: they see names and book for members."""
    return user.has_perm("bookings.manage_bookings", machine)


def _booking_for(request, pk: int) -> Booking:
    """The booking a URL names: its member's own, or one at a location where the viewer is staff."""
    booking = get_object_or_404(Booking.objects.select_related("machine", "member"), pk=pk)
    if booking.member.user_id != request.user.pk:
        require_at_location(user=request.user, obj=booking, what="booking", path=request.path)
    return booking


def _focus_day(request) -> date:
    """The day asked for (`day`, or the week's Monday from `week`), else today."""
    for key in ("day", "week"):
        try:
            return date.fromisoformat(request.GET.get(key) or request.POST.get(key) or "")
        except ValueError:
            continue
    return timezone.localdate()


def _monday(request) -> date:
    return week_start(_focus_day(request))


def _area_context(
    request, machine: Machine, monday: date, *, focus: date | None = None, **extra
) -> dict:
    member = member_get_or_create(user=request.user)
    show_names = _is_booking_staff(request.user, machine)
    # Staff book for members, so their own standing locks nothing.
    outlook = Outlook() if show_names else member_outlook(member=member, machine=machine)
    today = timezone.localdate()
    if focus is None:
        focus = today if week_start(today) == monday else monday
    grid = selectors.week_grid(
        machine=machine,
        monday=monday,
        member=member,
        show_names=show_names,
        may_book=outlook.may_book,
        focus=focus,
    )
    return {
        "machine": machine,
        "grid": grid,
        "outlook": outlook,
        "show_names": show_names,
        "today": today,
        # Staff of the machine's location see who waits for which time, in the order offered.
        "waitlist": selectors.machine_waitlist(machine) if show_names else [],
        **extra,
    }


def _render_area(request, machine, monday, status=200, **extra):
    return render(
        request,
        "bookings/_booking_area.html",
        _area_context(request, machine, monday, focus=extra.pop("focus", None), **extra),
        status=status,
    )


def _render_booked(request, machine: Machine, member: Member, booking: Booking, *, notice: str):
    """A member's own booking, by htmx: the notice and the cells it changed, not the week.

    What one booking changes on its member's grid is the cells it and its buffer cover: their
    standing and the other cells stay as they were (a refusal, a series, a booking for several
    machines and staff's grid, with names and the waitlist, are drawn again whole).
    """
    start = timezone.localtime(booking.start)
    try:
        focus = date.fromisoformat(request.POST.get("focus", ""))
    except ValueError:
        focus = start.date()
    grid = selectors.week_grid(
        machine=machine,
        monday=week_start(start.date()),
        member=member,
        # The rules just let this member book here: their standing opens the machine to them.
        may_book=True,
        focus=focus,
    )
    # Without the request: the menus' context processors would read roles for a page not drawn.
    response = HttpResponse(
        render_to_string(
            "bookings/_booking_made.html",
            {
                "grid": grid,
                "cells": selectors.grid_cells_between(
                    grid, start=booking.start, end=booking.blocked_until
                ),
                "notice": notice,
            },
        )
    )
    return reswap(response, "none")


@login_required
@require_GET
def machine_calendar(request, slug: str):
    """The full booking page of one machine: its week grid."""
    machine = get_object_or_404(machines_bookable(), slug=slug)
    activate(machine)  # its times in its location's zone
    return render(
        request,
        "bookings/machine_calendar.html",
        {
            **_area_context(request, machine, _monday(request), focus=_asked_day(request)),
            "feed_url": request.build_absolute_uri(
                reverse(
                    "bookings:machine_feed", args=[machine.slug, feeds.machine_feed_token(machine)]
                )
            ),
        },
    )


@login_required
@require_GET
def week_grid(request, slug: str):
    """The grid alone, for htmx week navigation and the machine page."""
    machine = get_object_or_404(machines_bookable(), slug=slug)
    activate(machine)  # its times in its location's zone
    return _render_area(request, machine, _monday(request), focus=_asked_day(request))


def _asked_day(request) -> date | None:
    try:
        return date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return None


def _parse_start(value: str) -> datetime | None:
    """The slot link's start: ISO 8601 with its offset (naive text only if it names one time)."""
    return parse_instant(value, timezone.get_current_timezone())


@login_required
def booking_new(request, slug: str):
    """GET: the booking form for a clicked slot. POST: book it and show the updated grid."""
    machine = get_object_or_404(machines_bookable(), slug=slug)
    activate(machine)  # its times in its location's zone
    for_staff = _is_booking_staff(request.user, machine)
    if request.method == "GET":
        start = _parse_start(request.GET.get("start", ""))
        if start is None:
            raise BadRequest("Choose a start time on the grid: that link names no time.")
        member = member_get_or_create(user=request.user)
        outlook = Outlook() if for_staff else member_outlook(member=member, machine=machine)
        lengths = booking_lengths(member=member, machine=machine, start=start, for_anyone=for_staff)
        form = BookingForm(
            machine=machine,
            for_staff=for_staff,
            lengths=lengths.minutes,
            initial={"start": start, "minutes": lengths.default},
        )
        template = "bookings/_booking_form.html" if request.htmx else "bookings/booking_new.html"
        # The time names its zone in the repeated hour: "01:00 PST", not an ambiguous "01:00".
        start_time = wall_clock_label(start, timezone.get_current_timezone())
        context = {
            "machine": machine,
            "form": form,
            "start": start,
            "start_time": start_time,
            "outlook": outlook,
            "lengths": lengths,
            "week": week_start(timezone.localtime(start).date()),
        }
        return render(request, template, context)
    if request.method != "POST":
        return HttpResponse(status=405)
    form = BookingForm(request.POST, machine=machine, for_staff=for_staff)
    monday = _monday(request)
    error = ""
    if form.is_valid():
        start = form.cleaned_data["start"]
        monday = week_start(timezone.localtime(start).date())
        member, error = _booking_member(request, form)
        if member is not None and (form.cleaned_data.get("repeat_weeks") or 1) > 1:
            return _book_weekly(request, form, machine, member, monday)
        if member is not None and form.cleaned_data.get("also"):
            return _book_together(request, form, machine, member, monday)
        if member is not None:
            try:
                booking = services.booking_create(
                    member=member,
                    machine=machine,
                    start=start,
                    # Real minutes: 90 minutes from 01:30 on the spring-forward night end at 04:00.
                    end=add_duration(start, timedelta(minutes=form.cleaned_data["minutes"])),
                    actor=request.user,
                    token=form.cleaned_data["form_token"],
                )
            except DuplicateSubmission:
                # Sent twice (a double click without JavaScript): the first submit booked, and
                # its "Booked ..." waits in the messages for the page it went to: show that page.
                if request.htmx:
                    return _render_area(request, machine, monday)
                return redirect(
                    f"{reverse('bookings:machine_calendar', args=[slug])}?week={monday}"
                )
            except DomainError as rejected:
                error = rejected.message
            else:
                notice = _("Booked %(machine)s, %(start)s to %(end)s.") % {
                    "machine": machine.name,
                    "start": formats.format_moment(booking.start),
                    "end": formats.format_time(booking.end),
                }
                if request.htmx and not for_staff:
                    return _render_booked(request, machine, member, booking, notice=notice)
                if request.htmx:
                    focus = timezone.localtime(start).date()
                    return _render_area(request, machine, monday, notice=notice, focus=focus)
                messages.success(request, notice)
                return redirect(
                    f"{reverse('bookings:machine_calendar', args=[slug])}?week={monday}"
                )
    else:
        error = _("Choose a slot on the grid and a length from the list.")
    if request.htmx:
        # 200 so htmx swaps the refusal into the page.
        return _render_area(request, machine, monday, error=error)
    return render(
        request,
        "bookings/booking_new.html",
        {"machine": machine, "form": form, "error": error},
        status=400,
    )


def _book_weekly(request, form, machine, member, monday):
    """A weekly series: book the weeks the rules allow, say which were refused and why."""
    start = form.cleaned_data["start"]
    try:
        series = services.bookings_create_weekly(
            member=member,
            machine=machine,
            start=start,
            end=add_duration(start, timedelta(minutes=form.cleaned_data["minutes"])),
            weeks=form.cleaned_data["repeat_weeks"],
            actor=request.user,
            token=form.cleaned_data["form_token"],
        )
    except DuplicateSubmission:
        return redirect(
            f"{reverse('bookings:machine_calendar', args=[machine.slug])}?week={monday}"
        )
    weeks = len(series.booked) + len(series.refused)
    counts = {"booked": len(series.booked), "weeks": weeks, "machine": machine.name}
    if series.booked:
        notice = ngettext(
            "Booked %(booked)s of %(weeks)s week of %(machine)s: %(starts)s.",
            "Booked %(booked)s of %(weeks)s weeks of %(machine)s: %(starts)s.",
            weeks,
        ) % {**counts, "starts": ", ".join(formats.format_moment(b.start) for b in series.booked)}
    else:
        notice = (
            ngettext(
                "Booked %(booked)s of %(weeks)s week of %(machine)s.",
                "Booked %(booked)s of %(weeks)s weeks of %(machine)s.",
                weeks,
            )
            % counts
        )
    error = " ".join(
        _("Not %(day)s: %(why)s") % {"day": formats.format_date(when), "why": rejected.message}
        for when, rejected in series.refused
    )
    if request.htmx:
        focus = timezone.localtime(start).date()
        return _render_area(request, machine, monday, notice=notice, error=error, focus=focus)
    messages.success(request, notice)
    if error:
        messages.warning(request, error)
    return redirect(f"{reverse('bookings:machine_calendar', args=[machine.slug])}?week={monday}")


def _book_together(request, form, machine, member, monday):
    """This machine and the others ticked, for the same time: all or none."""
    start = form.cleaned_data["start"]
    machines = [machine, *form.cleaned_data["also"]]
    error = notice = ""
    try:
        services.bookings_create_together(
            member=member,
            machines=machines,
            start=start,
            end=add_duration(start, timedelta(minutes=form.cleaned_data["minutes"])),
            actor=request.user,
            token=form.cleaned_data["form_token"],
        )
    except DuplicateSubmission:
        pass
    except DomainError as rejected:
        error = _("Nothing was booked: %(why)s") % {"why": rejected.message}
    else:
        names = ", ".join(m.name for m in machines)
        notice = _("Booked %(machines)s, %(start)s.") % {
            "machines": names,
            "start": formats.format_moment(start),
        }
    if request.htmx:
        focus = timezone.localtime(start).date()
        return _render_area(request, machine, monday, notice=notice, error=error, focus=focus)
    if notice:
        messages.success(request, notice)
    if error:
        messages.error(request, error)
    return redirect(f"{reverse('bookings:machine_calendar', args=[machine.slug])}?week={monday}")


def _booking_member(request, form) -> tuple[Member | None, str]:
    email = form.cleaned_data.get("member_email")
    if not email:
        return member_get_or_create(user=request.user), ""
    member = Member.objects.filter(user__email__iexact=email).first()
    if member is None:
        return None, _("No member has the email address %(email)s.") % {"email": email}
    return member, ""


@login_required
def booking_cancel(request, pk: int):
    """GET: "Cancel this booking?" (a page, or the grid's panel by htmx). POST: cancel it."""
    booking = _booking_for(request, pk)
    activate(booking)  # its times in its location's zone
    next_url = _safe_next(request)
    if request.method == "GET":
        actions = booking_actions(booking, user=request.user)
        if not actions.can_cancel:
            messages.info(request, _("This booking can no longer be cancelled."))
            return redirect(next_url)
        late_minutes = int(getattr(settings, "BOOKING_LATE_CANCEL_MINUTES", 120))
        context = {
            "booking": booking,
            "form": CancelForm(),
            "next": next_url,
            "htmx_area": bool(request.htmx),
            "late": booking.start - timezone.now() < timedelta(minutes=late_minutes),
            "late_minutes": late_minutes,
        }
        template = (
            "bookings/_cancel_confirm.html" if request.htmx else "bookings/booking_cancel.html"
        )
        return render(request, template, context)
    if request.method != "POST":
        return HttpResponse(status=405)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The cancel form was incomplete; nothing was changed."))
        return redirect(next_url)
    try:
        services.booking_cancel(
            booking=booking,
            actor=request.user,
            reason=form.cleaned_data.get("reason", ""),
            token=form.cleaned_data["form_token"],
        )
    except DuplicateSubmission:
        return redirect(next_url)  # the first submit cancelled it and says so there
    except DomainError as rejected:
        if request.htmx:
            return _render_area(
                request,
                booking.machine,
                _week_of(booking),
                error=rejected.message,
                focus=timezone.localtime(booking.start).date(),
            )
        messages.error(request, rejected.message)
        return redirect(next_url)
    notice = _("Cancelled your %(machine)s booking.") % {"machine": booking.machine.name}
    if request.htmx:
        return _render_area(
            request,
            booking.machine,
            _week_of(booking),
            notice=notice,
            focus=timezone.localtime(booking.start).date(),
        )
    messages.success(request, notice)
    return redirect(next_url)


def _week_of(booking: Booking) -> date:
    return week_start(timezone.localtime(booking.start).date())


def _safe_next(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("bookings:my_bookings")


@login_required
@require_POST
def booking_extend(request, pk: int):
    booking = _booking_for(request, pk)
    activate(booking)  # its times in its location's zone
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how many minutes to extend by."))
        return redirect(_safe_next(request))
    try:
        services.booking_extend(
            booking=booking,
            new_end=add_duration(booking.end, timedelta(minutes=form.cleaned_data["minutes"])),
            actor=request.user,
            token=form.cleaned_data["form_token"],
        )
    except DuplicateSubmission:
        pass  # the first submit did it and says so on the page it went to
    except DomainError as rejected:
        messages.error(request, rejected.message)
    else:
        messages.success(request, _("Extended your booking."))
    return redirect(_safe_next(request))


@login_required
@require_POST
def booking_hand_over(request, pk: int):
    """Give a booking that has not started to another member, named by their email."""
    booking = _booking_for(request, pk)
    activate(booking)  # its times in its location's zone
    form = HandOverForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the email address of the member to hand the booking to."))
        return redirect(_safe_next(request))
    email = form.cleaned_data["email"]
    to_member = Member.objects.filter(user__email__iexact=email).first()
    if to_member is None:
        messages.error(request, _("No member has the email address %(email)s.") % {"email": email})
        return redirect(_safe_next(request))
    try:
        services.booking_hand_over(
            booking=booking,
            to_member=to_member,
            actor=request.user,
            token=form.cleaned_data["form_token"],
        )
    except DuplicateSubmission:
        pass
    except DomainError as rejected:
        messages.error(
            request,
            _("%(member)s cannot take it: %(why)s")
            % {"member": to_member.display_name, "why": rejected.message},
        )
    else:
        messages.success(
            request,
            _("Handed your %(machine)s booking to %(member)s.")
            % {"machine": booking.machine.name, "member": to_member.display_name},
        )
    return redirect(_safe_next(request))


@login_required
@require_POST
def booking_finish(request, pk: int):
    """ "I'm done": end a running booking now; the machine switches off and is free again."""
    booking = _booking_for(request, pk)
    activate(booking)  # its times in its location's zone
    form = OnceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was incomplete; nothing was changed."))
        return redirect(_safe_next(request))
    try:
        services.booking_finish(
            booking=booking, actor=request.user, token=form.cleaned_data["form_token"]
        )
    except DuplicateSubmission:
        pass  # the first submit did it and says so on the page it went to
    except DomainError as rejected:
        messages.error(request, rejected.message)
    else:
        messages.success(
            request,
            _("Done: %(machine)s is switched off and free again.")
            % {"machine": booking.machine.name},
        )
    return redirect(_safe_next(request))


@login_required
@booking_staff_required
@require_POST
def booking_check_in(request, pk: int):
    """Staff check a member in by hand (the gate's badge scan does the same)."""
    booking = staff_object_or_404(
        request, Booking.objects.select_related("machine"), what="check a member in", pk=pk
    )
    activate(booking)  # its times in its location's zone
    try:
        services.booking_check_in(booking=booking, actor=request.user)
    except BookingRejected as rejected:
        messages.error(request, rejected.message)
    else:
        messages.success(request, _("Checked in."))
    return redirect(_safe_next(request))


@login_required
@require_GET
def area_day(request):
    """Several machines of one area side by side for a day (the laser room, the wood shop)."""
    areas = bookable_areas()
    asked = request.GET.get("area", "")
    area = next((a for a in areas if str(a.pk) == asked), areas[0] if areas else None)
    day = _asked_day(request) or timezone.localdate()
    view = outlook_area_day(
        area=area,
        day=day,
        member=member_get_or_create(user=request.user),
        show_names=False,  # names only on each machine's own calendar, for its own staff
    )
    return render(
        request,
        "bookings/area_day.html",
        {
            "view": view,
            "areas": areas,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
        },
    )


@login_required
@require_GET
def my_bookings(request):
    member = member_get_or_create(user=request.user)
    feed = services.calendar_feed_for(member)
    now = timezone.now()
    upcoming = [
        booking_actions(booking, user=request.user, now=now)
        for booking in selectors.member_bookings_upcoming(member, now=now).select_related("member")
    ]
    return render(
        request,
        "bookings/my_bookings.html",
        {
            "upcoming": upcoming,
            "past": selectors.member_bookings_past(member, now=now)[:30],
            # A token per leave button: leaving one wait must not spend another's.
            "waits": [
                (wait, OnceForm())
                for wait in selectors.member_waits_open(member).filter(end__gt=now)
            ],
            "machines": machines_bookable(),
            "now": now,
            "cancel_form": CancelForm(),
            "extend_form": ExtendForm(initial={"minutes": 30}),
            "feed_url": request.build_absolute_uri(
                reverse("bookings:member_feed", args=[feed.token])
            ),
        },
    )


@login_required
@require_POST
def feed_reset(request):
    services.calendar_feed_reset(member=member_get_or_create(user=request.user))
    messages.success(request, _("Your calendar link was replaced; the old link no longer works."))
    return redirect("bookings:my_bookings")


@login_required
@booking_staff_required
@require_GET
def staff_day(request):
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    return render(
        request,
        "bookings/staff_day.html",
        {
            "day": day,
            "bookings": selectors.bookings_on_day(day, scope=staff_scope(request.user)),
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "cancel_form": CancelForm(),
        },
    )


@login_required
def maintenance_new(request, slug: str):
    """Maintainers and staff schedule maintenance; overlapping bookings are cancelled."""
    machine = get_object_or_404(Machine, slug=slug)
    activate(machine)  # its times in its location's zone
    if not user_may_service(request.user, machine):
        raise Http404
    form = MaintenanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _window, cancelled = services.maintenance_window_create(
                machine=machine,
                start=data["start"],
                end=data["end"],
                reason=data["reason"],
                actor=request.user,
                repeat_weekly_until=data["repeat_weekly_until"],
                token=data["form_token"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                ngettext(
                    "Maintenance scheduled; %(count)s booking cancelled and its member told.",
                    "Maintenance scheduled; %(count)s bookings cancelled and their members told.",
                    len(cancelled),
                )
                % {"count": len(cancelled)},
            )
            return redirect("equipment:machine_detail", slug=machine.slug)
    return render(request, "bookings/maintenance_new.html", {"machine": machine, "form": form})


def member_feed(request, token: str):
    try:
        member = feeds.member_for_feed(token)
    except FeedTokenInvalid:
        raise Http404 from None
    # A calendar app fetches it in no language of its own: the member's.
    with translation.override(language_of(member.user)):
        body = feeds.member_feed(member)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


def machine_feed(request, slug: str, token: str):
    try:
        machine = feeds.machine_for_feed(slug, token)
    except FeedTokenInvalid:
        raise Http404 from None
    return HttpResponse(feeds.machine_feed(machine), content_type="text/calendar; charset=utf-8")
