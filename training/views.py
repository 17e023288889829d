"""Training pages: class calendar, my certifications, teaching roster, training demand."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.money import money_format
from core.time import week_start
from core.views import form_action
from locations.views import chosen_location
from locations.zones import activate, zone_of
from membership.billing.config import stripe_enabled
from membership.errors import MembershipError
from membership.models import Member
from membership.services import member_get_or_create
from staffing.services import require_at_location
from staffing.shortcuts import staff_object_or_404
from training import fees, guests, scheduling, selectors, services
from training.errors import TrainingError
from training.forms import (
    ActionForm,
    FeeCashForm,
    GuestForm,
    MoveForm,
    ReasonForm,
    RosterForm,
    SeriesForm,
    SessionForm,
    SignOffForm,
)
from training.models import (
    Certification,
    ClassSession,
    Enrollment,
    EnrollmentStatus,
    FeeState,
    GuestSeat,
    MemberCertification,
)

manage_required = permission_required("training.manage_training", raise_exception=True)


def _member(request) -> Member:
    return member_get_or_create(user=request.user)


def _back(request, default: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


# --- The class calendar -------------------------------------------------------------------------


def _calendar_window(view: str, day: date) -> tuple[date, date, date, date]:
    """First and last+1 day shown, and the days the previous/next links go to."""
    if view == "month":
        first = day.replace(day=1)
        days = pycalendar.monthrange(first.year, first.month)[1]
        after = first + timedelta(days=days)
        before = (first - timedelta(days=1)).replace(day=1)
        return first, after, before, after
    first = week_start(day)
    return first, first + timedelta(days=7), first - timedelta(days=7), first + timedelta(days=7)


def class_list(request):
    if not request.user.is_authenticated:
        # Public: the schedule, so visitors see what they can learn before they join.
        return render(
            request,
            "training/class_schedule_public.html",
            {
                "sessions": selectors.sessions_upcoming(at=timezone.now()).select_related(
                    "certification"
                )[:30]
            },
        )
    view = "month" if request.GET.get("view") == "month" else "week"
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    choice = chosen_location(request)
    if choice.current is not None:
        activate(choice.current)  # its days, on its clock
    first, after, previous, following = _calendar_window(view, day)
    zone = timezone.get_current_timezone()
    # A day more each side: a class belongs to the day of its own location's clock.
    sessions = selectors.sessions_between(
        start=timezone.make_aware(datetime.combine(first - timedelta(days=1), time.min), zone),
        end=timezone.make_aware(datetime.combine(after + timedelta(days=1), time.min), zone),
    )
    if choice.current is not None:
        sessions = sessions.filter(location=choice.current)
    member = _member(request)
    now = timezone.now()
    catalog = _catalog(member, now)
    # Why a member may not enroll, shown instead of the button: certified, or missing a class.
    blocked = {}
    for row in catalog:
        if row["held"] and row["held"].state == selectors.GrantState.VALID:
            blocked[row["certification"].pk] = "certified"
        elif row["missing"]:
            blocked[row["certification"].pk] = "needs " + ", ".join(map(str, row["missing"]))
    mine = {
        e.session_id: e
        for e in member.enrollments.filter(session__in=sessions).exclude(
            status=EnrollmentStatus.CANCELLED
        )
    }
    by_day: dict[date, list] = {}
    for session in sessions:
        session.mine = mine.get(session.pk)
        session.blocked = blocked.get(session.certification_id, "")
        # The day on the clock of the class's location.
        local_day = timezone.localdate(session.start, zone_of(session))
        if first <= local_day < after:
            by_day.setdefault(local_day, []).append(session)
    return render(
        request,
        "training/class_list.html",
        {
            "view": view,
            "first": first,
            "last": after - timedelta(days=1),
            "previous": previous,
            "following": following,
            "days": sorted(by_day.items()),
            "now": now,
            "certifications": catalog,
            "form": ActionForm(),
            "choice": choice,
        },
    )


def _catalog(member: Member, now: datetime) -> list[dict]:
    """Each certification with what the member holds, lacks, or has asked for."""
    held = {h.certification.pk: h for h in selectors.member_certification_summary(member, at=now)}
    asked = {r.certification_id: r for r in selectors.member_open_requests(member)}
    rows = []
    for certification in Certification.objects.prefetch_related("prerequisites"):
        rows.append(
            {
                "certification": certification,
                "held": held.get(certification.pk),
                "request": asked.get(certification.pk),
                "missing": selectors.member_missing_prerequisites(
                    member=member, certification=certification, at=now
                ),
            }
        )
    return rows


@login_required
def session_detail(request, pk: int):
    session = get_object_or_404(selectors.sessions_with_seats(), pk=pk)
    activate(session)  # its times in its location's zone
    member = _member(request)
    enrollment = selectors.member_active_enrollment(member, session)
    can_manage = selectors.user_can_manage_session(request.user, session)
    now = timezone.now()
    return render(
        request,
        "training/session_detail.html",
        {
            "session": session,
            "free": session.seats_free,
            "enrollment": enrollment,
            "position": selectors.waitlist_position(enrollment) if enrollment else None,
            "missing": selectors.member_missing_prerequisites(
                member=member, certification=session.certification, at=now
            ),
            "upcoming": session.start > now and not session.is_cancelled,
            "can_manage": can_manage,
            "can_sign_off": selectors.user_can_sign_off(request.user, session.certification),
            "roster": selectors.session_roster(session) if can_manage else [],
            "waitlist": selectors.session_waitlist(session) if can_manage else [],
            "form": ActionForm(),
            "move_form": MoveForm(
                initial={
                    "start": timezone.localtime(session.start),
                    "end": timezone.localtime(session.end),
                }
            ),
            "cancel_form": ReasonForm(),
            "fee": fees.session_fee(session),
            "stripe_billing": stripe_enabled(),
            "refund_hours": settings.CLASS_FEE_FULL_REFUND_HOURS,
            "checkout_returned": request.GET.get("checkout") == "success",
            "guest_form": GuestForm(),
            "guest_seats": enrollment.guest_seats.filter(cancelled_at__isnull=True).select_related(
                "guest"
            )
            if enrollment
            else [],
        },
    )


@require_POST
@login_required
def guest_bring(request, pk: int):
    """The member brings a registered guest (waiver signed) on their own seat."""
    enrollment = get_object_or_404(Enrollment, pk=pk)
    form_action(
        request,
        GuestForm(request.POST),
        lambda data: guests.guest_bring(
            enrollment=enrollment,
            name=data["name"],
            email=data["email"],
            signed_name=data["signed_name"],
            actor=request.user,
            token=data["form_token"],
        ),
        success=lambda seat: _("%(guest)s has a seat as your guest.") % {"guest": seat.guest.name},
    )
    return redirect("training:session_detail", pk=enrollment.session_id)


@require_POST
@login_required
def guest_seat_cancel(request, pk: int):
    seat = get_object_or_404(GuestSeat.objects.select_related("enrollment"), pk=pk)
    form_action(
        request,
        ActionForm(request.POST),
        lambda data: guests.guest_seat_cancel(
            seat=seat, actor=request.user, token=data["form_token"]
        ),
        success=_("The guest's seat is given up."),
    )
    return redirect("training:session_detail", pk=seat.enrollment.session_id)


@require_POST
@login_required
def session_enroll(request, pk: int):
    session = get_object_or_404(ClassSession, pk=pk)
    activate(session)  # its times in its location's zone
    member = _member(request)
    enrolled = form_action(
        request,
        ActionForm(request.POST),
        lambda data: fees.enrollment_create_paid(
            member=member, session=session, token=data["form_token"]
        ),
    )
    if enrolled:
        position = selectors.waitlist_position(enrolled.value)
        if position is None and enrolled.value.fee_state == FeeState.DUE:
            if stripe_enabled():
                return _to_checkout(request, enrolled.value, pk)
            messages.success(
                request, _("You have a seat in this class: pay the class fee at the front desk.")
            )
        elif position is None:
            messages.success(request, _("You have a seat in this class."))
        else:
            messages.warning(
                request,
                _(
                    "The class is full: you are on the waitlist at position %(position)s. "
                    "We email you if a seat opens."
                )
                % {"position": position},
            )
    return _back(request, reverse("training:session_detail", args=[pk]))


def _to_checkout(request, enrollment: Enrollment, session_pk: int):
    try:
        return redirect(fees.class_fee_checkout(enrollment=enrollment, actor=request.user))
    except (MembershipError, TrainingError) as error:
        messages.error(request, error.message)
        return redirect("training:session_detail", pk=session_pk)


@require_POST
@login_required
def enrollment_pay(request, pk: int):
    """Pay the fee of a held or promoted seat (Checkout again after an abandoned one)."""
    enrollment = get_object_or_404(Enrollment, pk=pk, member__user=request.user)
    return _to_checkout(request, enrollment, enrollment.session_id)


@require_POST
@login_required
@permission_required("membership.record_payment", raise_exception=True)
def enrollment_fee_cash(request, pk: int):
    enrollment = staff_object_or_404(request, Enrollment, what="record a class fee", pk=pk)
    form = FeeCashForm(request.POST)
    form_action(
        request,
        form,
        lambda data: fees.class_fee_record_cash(
            enrollment=enrollment,
            actor=request.user,
            token=data["form_token"],
            discount=form.discount(enrollment.fee_currency),
        ),
        success=_("Class fee of %(member)s recorded as paid in cash.")
        % {"member": enrollment.member},
    )
    return _back(request, reverse("training:session_detail", args=[enrollment.session_id]))


def _cancelled_message(outcome) -> str:
    enrollment, refunded = outcome
    if refunded:
        return _("Your enrollment is cancelled and %(amount)s refunded.") % {
            "amount": money_format(refunded, enrollment.fee_currency)
        }
    if enrollment.fee_state == FeeState.KEPT:
        return _(
            "Your enrollment is cancelled. The class fee is not refunded this close to the class."
        )
    return _("Your enrollment is cancelled.")


@require_POST
@login_required
def enrollment_cancel(request, pk: int):
    enrollment = get_object_or_404(Enrollment.objects.select_related("member", "session"), pk=pk)
    if enrollment.member.user_id != request.user.pk:
        _refuse_staff_elsewhere(request, enrollment.session, "cancel an enrollment")
    activate(enrollment)  # its times in its location's zone
    form_action(
        request,
        ActionForm(request.POST),
        lambda data: fees.enrollment_cancel_refunding(
            enrollment=enrollment,
            actor=request.user,
            override_reason=request.POST.get("refund_reason", ""),
            token=data["form_token"],
        ),
        success=_cancelled_message,
    )
    return _back(request, reverse("training:session_detail", args=[enrollment.session_id]))


@require_POST
@login_required
def request_training(request, pk: int):
    certification = get_object_or_404(Certification, pk=pk)
    member = _member(request)
    form_action(
        request,
        ActionForm(request.POST),
        lambda data: services.training_request_create(
            member=member, certification=certification, token=data["form_token"]
        ),
        success=_(
            "Noted: you want a %(certification)s class. Staff schedule classes where demand is."
        )
        % {"certification": certification},
    )
    return _back(request, reverse("training:class_list"))


@login_required
def my_certifications(request):
    member = _member(request)
    now = timezone.now()
    return render(
        request,
        "training/my_certifications.html",
        {
            "member": member,
            "summary": selectors.member_certification_summary(member, at=now),
            "history": selectors.member_grant_history(member),
            "enrollments": selectors.member_upcoming_enrollments(member, at=now),
            "requests": selectors.member_open_requests(member),
            "suggested": selectors.classes_for_member(member, at=now),
            "form": ActionForm(),
        },
    )


# --- Teaching: sessions, roster, one-to-one sign-off, revoke --------------------------------------


def _require_teacher(user) -> None:
    if not (user.has_perm("training.teach") or user.has_perm("training.manage_training")):
        raise PermissionDenied


@login_required
def instructor_sessions(request):
    _require_teacher(request.user)
    now = timezone.now()
    sessions = selectors.sessions_for_instructor(request.user, since=now - timedelta(days=14))
    certifications = selectors.certifications_user_can_sign_off(request.user)
    return render(
        request,
        "training/instructor_sessions.html",
        {
            "past": [s for s in sessions if s.start <= now],
            "upcoming": [s for s in sessions if s.start > now],
            "signoff_form": SignOffForm(certifications=certifications),
            "now": now,
        },
    )


@login_required
def roster(request, pk: int):
    session = get_object_or_404(
        ClassSession.objects.select_related("certification", "instructor"), pk=pk
    )
    _refuse_staff_elsewhere(request, session, "class roster")
    activate(session)  # its times in its location's zone
    if not selectors.user_can_mark_roster(request.user, session):
        raise PermissionDenied
    enrollments = selectors.session_roster(session)
    guest_seats = selectors.session_guest_seats(session)
    form = RosterForm(request.POST or None, enrollments=enrollments, guest_seats=guest_seats)
    if request.method == "POST":
        done = form_action(
            request,
            form,
            lambda data: fees.roster_record_charging(
                session=session,
                outcomes=form.outcomes(),
                actor=request.user,
                token=data["form_token"],
                guests_attended=form.guests_attended(),
            ),
            success=_("Roster saved. Members who passed are certified."),
        )
        if done:
            return redirect("training:roster", pk=pk)
        form = RosterForm(
            enrollments=selectors.session_roster(session),
            guest_seats=selectors.session_guest_seats(session),
        )
    return render(
        request,
        "training/roster.html",
        {
            "session": session,
            "form": form,
            "started": session.start <= timezone.now(),
            "waitlist": selectors.session_waitlist(session),
        },
    )


@require_POST
@login_required
def sign_off(request):
    _require_teacher(request.user)
    form = SignOffForm(
        request.POST, certifications=selectors.certifications_user_can_sign_off(request.user)
    )

    def grant(data):
        member = Member.objects.filter(user__email__iexact=data["email"].strip()).first()
        if member is None:
            raise TrainingError(_("No member has the email %(email)s.") % {"email": data["email"]})
        services.certification_grant(
            member=member,
            certification=data["certification"],
            actor=request.user,
            note=data["note"],
            token=data["form_token"],
        )

    form_action(request, form, grant, success=_("Signed off: the member is certified."))
    return _back(request, reverse("training:instructor_sessions"))


@require_POST
@login_required
def revoke(request, pk: int):
    grant = get_object_or_404(MemberCertification.objects.select_related("member"), pk=pk)
    _refuse_staff_elsewhere(request, grant.member, "revoke a certification")
    form_action(
        request,
        ReasonForm(request.POST),
        lambda data: services.certification_revoke(
            grant=grant, reason=data["reason"], actor=request.user, token=data["form_token"]
        ),
        success=_("%(certification)s revoked for %(member)s; the record stays in the history.")
        % {"certification": grant.certification, "member": grant.member},
    )
    return _back(request, reverse("training:instructor_sessions"))


# --- Staff: demand queue, scheduling, moving and cancelling ---------------------------------------


@login_required
@manage_required
def demand_queue(request, session_form=None, series_form=None, status=200):
    now = timezone.now()
    return render(
        request,
        "training/demand_queue.html",
        {
            "rows": selectors.training_demand(at=now),
            "session_form": session_form or SessionForm(prefix="one"),
            "series_form": series_form or SeriesForm(prefix="series"),
        },
        status=status,
    )


@require_POST
@login_required
@manage_required
def session_create(request):
    form = SessionForm(request.POST, prefix="one")
    if form_action(
        request,
        form,
        lambda data: scheduling.session_create(
            certification=data["certification"],
            instructor=data["instructor"],
            start=data["start"],
            end=data["end"],
            capacity=data["capacity"],
            place=data["place"],
            location=data.get("location"),
            area=data.get("area"),
            actor=request.user,
            token=data["form_token"],
        ),
        success=_("Class scheduled."),
    ):
        return redirect("training:demand_queue")
    return demand_queue(request, session_form=form, status=400)


@require_POST
@login_required
@manage_required
def series_create(request):
    form = SeriesForm(request.POST, prefix="series")
    outcome = {}

    def create(data):
        outcome["series"] = scheduling.series_create(
            certification=data["certification"],
            instructor=data["instructor"],
            start=data["start"],
            end=data["end"],
            frequency=data["frequency"],
            until=data["until"],
            capacity=data["capacity"],
            place=data["place"],
            location=data.get("location"),
            area=data.get("area"),
            actor=request.user,
            token=data["form_token"],
        )

    if form_action(request, form, create, success=_("Class series scheduled.")):
        return redirect("training:demand_queue")
    return demand_queue(request, series_form=form, status=400)


@require_POST
@login_required
@require_POST
@login_required
def session_cancel(request, pk: int):
    session = get_object_or_404(ClassSession, pk=pk)
    _refuse_staff_elsewhere(request, session, "cancel a class")
    activate(session)  # its times in its location's zone
    form_action(
        request,
        ReasonForm(request.POST),
        lambda data: scheduling.session_cancel(
            session=session, reason=data["reason"], actor=request.user, token=data["form_token"]
        ),
        success=_("Class cancelled; everyone enrolled is emailed."),
    )
    return redirect("training:session_detail", pk=pk)


def _refuse_staff_elsewhere(request, target: ClassSession | Member, what: str) -> None:
    if selectors.user_is_training_staff_elsewhere(request.user, target):
        require_at_location(user=request.user, obj=target, what=what, path=request.path)
