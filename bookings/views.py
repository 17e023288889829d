"""Booking pages: a machine's week grid (htmx), the booking form, my bookings, staff's day, feeds."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from bookings import feeds, selectors, services
from bookings.errors import BookingRejected, FeedTokenInvalid
from bookings.forms import BookingForm, CancelForm, ExtendForm, MaintenanceForm
from bookings.models import Booking
from core.errors import DomainError
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


def _monday(request) -> date:
    try:
        day = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = timezone.localdate()
    return week_start(day)


def _area_context(request, machine: Machine, monday: date, **extra) -> dict:
    member = member_get_or_create(user=request.user)
    show_names = _is_booking_staff(request.user, machine)
    grid = selectors.week_grid(machine=machine, monday=monday, member=member, show_names=show_names)
    return {
        "machine": machine,
        "grid": grid,
        "show_names": show_names,
        "today": timezone.localdate(),
        "cancel_token": uuid.uuid4(),
        **extra,
    }


def _render_area(request, machine, monday, status=200, **extra):
    return render(
        request,
        "bookings/_booking_area.html",
        _area_context(request, machine, monday, **extra),
        status=status,
    )


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
            **_area_context(request, machine, _monday(request)),
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
    return _render_area(request, machine, _monday(request))


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
            return HttpResponseBadRequest("Choose a start time on the grid.")
        form = BookingForm(
            machine=machine,
            for_staff=for_staff,
            initial={"start": start, "minutes": machine.min_minutes},
        )
        template = "bookings/_booking_form.html" if request.htmx else "bookings/booking_new.html"
        # The time names its zone in the repeated hour: "01:00 PST", not an ambiguous "01:00".
        start_time = wall_clock_label(start, timezone.get_current_timezone())
        context = {"machine": machine, "form": form, "start": start, "start_time": start_time}
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
            except DomainError as rejected:
                error = rejected.message
            else:
                zone = timezone.get_current_timezone()
                notice = (
                    f"Booked {machine.name}, {wall_clock_label(booking.start, zone, '%a %d %b %H:%M')}"
                    f" to {wall_clock_label(booking.end, zone)}."
                )
                if request.htmx:
                    return _render_area(request, machine, monday, notice=notice)
                messages.success(request, notice)
                return redirect(
                    f"{reverse('bookings:machine_calendar', args=[slug])}?week={monday}"
                )
    else:
        error = "Choose a slot on the grid and a length from the list."
    if request.htmx:
        # 200 so htmx swaps the refusal into the page.
        return _render_area(request, machine, monday, error=error)
    return render(
        request,
        "bookings/booking_new.html",
        {"machine": machine, "form": form, "error": error},
        status=400,
    )


def _booking_member(request, form) -> tuple[Member | None, str]:
    email = form.cleaned_data.get("member_email")
    if not email:
        return member_get_or_create(user=request.user), ""
    member = Member.objects.filter(user__email__iexact=email).first()
    if member is None:
        return None, f"No member has the email address {email}."
    return member, ""


@login_required
@require_POST
def booking_cancel(request, pk: int):
    booking = _booking_for(request, pk)
    activate(booking)  # its times in its location's zone
    form = CancelForm(request.POST)
    next_url = _safe_next(request)
    if not form.is_valid():
        messages.error(request, "The cancel form was incomplete; nothing was changed.")
        return redirect(next_url)
    try:
        services.booking_cancel(
            booking=booking,
            actor=request.user,
            reason=form.cleaned_data.get("reason", ""),
            token=form.cleaned_data["form_token"],
        )
    except DomainError as rejected:
        if request.htmx:
            return _render_area(request, booking.machine, _week_of(booking), error=rejected.message)
        messages.error(request, rejected.message)
        return redirect(next_url)
    notice = f"Cancelled your {booking.machine.name} booking."
    if request.htmx:
        return _render_area(request, booking.machine, _week_of(booking), notice=notice)
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
        messages.error(request, "Choose how many minutes to extend by.")
        return redirect(_safe_next(request))
    try:
        services.booking_extend(
            booking=booking,
            new_end=add_duration(booking.end, timedelta(minutes=form.cleaned_data["minutes"])),
            actor=request.user,
            token=form.cleaned_data["form_token"],
        )
    except DomainError as rejected:
        messages.error(request, rejected.message)
    else:
        messages.success(request, "Extended your booking.")
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
        messages.success(request, "Checked in.")
    return redirect(_safe_next(request))


@login_required
@require_GET
def my_bookings(request):
    member = member_get_or_create(user=request.user)
    feed = services.calendar_feed_for(member)
    now = timezone.now()
    return render(
        request,
        "bookings/my_bookings.html",
        {
            "upcoming": selectors.member_bookings_upcoming(member, now=now),
            "past": selectors.member_bookings_past(member, now=now)[:30],
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
    messages.success(request, "Your calendar link was replaced; the old link no longer works.")
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
                f"Maintenance scheduled; {len(cancelled)} booking(s) cancelled and their members told.",
            )
            return redirect("equipment:machine_detail", slug=machine.slug)
    return render(request, "bookings/maintenance_new.html", {"machine": machine, "form": form})


def member_feed(request, token: str):
    try:
        member = feeds.member_for_feed(token)
    except FeedTokenInvalid:
        raise Http404 from None
    return HttpResponse(feeds.member_feed(member), content_type="text/calendar; charset=utf-8")


def machine_feed(request, slug: str, token: str):
    try:
        machine = feeds.machine_for_feed(slug, token)
    except FeedTokenInvalid:
        raise Http404 from None
    return HttpResponse(feeds.machine_feed(machine), content_type="text/calendar; charset=utf-8")
